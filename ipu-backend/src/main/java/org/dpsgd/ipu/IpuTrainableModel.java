package org.dpsgd.ipu;

import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Network;

/**
 * The SPI over the native session. One {@link #accumulateClipped} is one device call: R replicas each
 * run A micro-batches of m slots in an on-device loop, clip every slot's gradient, multiply by its mask
 * and add it to the replica's clipped sum. {@link #drainGradientSum} all-reduces the sums across
 * replicas on the device and copies the result to the host, where common/ adds the noise and takes
 * the optimizer step exactly as for every other backend (parameters go back with
 * {@link #writeParameters}). See docs/ipu.md "SPI mapping".
 *
 * <p>Clipping is flat or per layer ({@link ClipPolicy}): the graph computes each slot's squared norm
 * per trainable parameter tensor and clips each group of tensors to its own bound, from a table sent
 * with every call ({@link ClipTable}). Frozen tensors have no gradient on the device and add nothing.
 * A slot whose gradient norm is not finite adds exactly 0 (selected out on the device) and is counted
 * ({@link #nonFiniteExamples()}).
 *
 * <p>The device's accumulators and GCL's sum are float32, so removing one example changes how the
 * others round: every bound is lowered by the coupling margin μ of {@link AccumulatorMargin}, computed
 * from the step bound B_cap the trainer gives ({@link #boundStepExamples}); until told, the model
 * covers one call per drain and refuses a second clipped call with real slots before the drain.
 */
final class IpuTrainableModel implements TrainableModel {
    private static final int METRICS = 6;

    private final Network network;
    private final BatchLayout layout;
    private final int multiplicity;
    private final long parameterCount;
    private final int[] trainable;
    private final GradientScope scope;
    private final StepMargin stepMargin;
    // With a drain per call (StepMargin.drainsEveryCall): the step's float64 host sum and one call's drain.
    private double[] hostSum;
    private float[] callSum;
    private boolean hostPending;
    private IpuSession session;
    private long nonFinite;

    /** @param trainable indices (Network.parameters() order, ascending) of the parameter tensors the graph trains */
    IpuTrainableModel(Network network, BatchLayout layout, int multiplicity, int[] trainable, IpuSession session) {
        this(network, layout, multiplicity, trainable, session, GradientScope.PROCESS, 1, false);
    }

    /**
     * @param scope RUN when the session's graph spans several poprun instances (its drain is then global)
     * @param instances poprun instances whose replicas the drain's GCL sum spans (1 without poprun)
     * @param stochasticRounding whether the graph rounds stochastically (fp16 with stochastic_rounding)
     */
    IpuTrainableModel(
            Network network,
            BatchLayout layout,
            int multiplicity,
            int[] trainable,
            IpuSession session,
            GradientScope scope,
            int instances,
            boolean stochasticRounding) {
        this.scope = scope;
        this.network = network;
        this.layout = layout;
        this.multiplicity = multiplicity;
        this.parameterCount = network.parameterCount();
        this.trainable = trainable.clone();
        this.session = session;
        this.stepMargin =
                new StepMargin(layout, instances, stochasticRounding, trainableCoordinates(network, trainable));
        long nativeCount = session.parameterCount();
        long nativeTrainable = session.trainableTensors();
        if (nativeCount != parameterCount || nativeTrainable != trainable.length) {
            session.close();
            throw new IllegalStateException("the native graph has " + nativeCount + " parameters in " + nativeTrainable
                    + " trainable tensors but " + network.name() + " has " + parameterCount + " in "
                    + trainable.length);
        }
    }

    @Override
    public Network network() {
        return network;
    }

    /** RUN under poprun with several instances: the drained sum is already the whole run's (GCL). */
    @Override
    public GradientScope gradientScope() {
        return scope;
    }

    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm))
            throw new IllegalArgumentException("clip norm must be a finite number > 0, got " + clipNorm);
        return accumulateClipped(batch, ClipPolicy.flat(clipNorm));
    }

    /** Flat or per-layer: each group of each slot's gradient clipped to its own bound on the device. */
    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, ClipPolicy policy) {
        if (policy.groupOfParameter() != null
                && policy.groupOfParameter().length != network.parameters().size()) {
            throw new IllegalArgumentException(
                    "clip policy has groups for " + policy.groupOfParameter().length + " parameter tensors, "
                            + network.name() + " has " + network.parameters().size());
        }
        check(batch);
        BatchStats stats = run(batch, stepMargin.tableForCall(policy, trainable, batch.mask()), batch.mask());
        // An all-padding call added exact zeros: nothing to drain.
        if (stepMargin.drainsEveryCall() && hasRealSlot(batch.mask())) drainCallIntoHostSum();
        return stats;
    }

    /**
     * The coupling margin assumes this call's float32 device sum starts from zero and goes to a float64
     * host sum right after the call (docs/ipu.md "The coupling margin"): drain it (GCL, copy, zero) and add.
     */
    private void drainCallIntoHostSum() {
        if (hostSum == null) hostSum = new double[Math.toIntExact(parameterCount)];
        float[] callSum = callBuffer();
        live().drainGradientSum(callSum, callSum.length);
        for (int i = 0; i < hostSum.length; i++) hostSum[i] += callSum[i];
        hostPending = true;
    }

    /**
     * B_cap from the trainer: the coupling margin then covers a step of up to B_cap examples on each
     * instance, in up to ceil(B_cap / slots per call) calls; refused (UserError) when it would lower
     * the bounds by more than {@link AccumulatorMargin#CAP}.
     */
    @Override
    public void boundStepExamples(int maxExamples) {
        stepMargin.boundStepExamples(maxExamples);
    }

    /** The coupling margin in force (the one-call margin until {@link #boundStepExamples}). */
    AccumulatorMargin margin() {
        return stepMargin.margin();
    }

    private float[] callBuffer() {
        if (callSum == null) callSum = new float[Math.toIntExact(parameterCount)];
        return callSum;
    }

    private static boolean hasRealSlot(float[] mask) {
        for (float v : mask) if (v != 0f) return true;
        return false;
    }

    /** d: the coordinates of the trainable tensors (frozen ones stay exactly 0 on the device). */
    static long trainableCoordinates(Network network, int[] trainable) {
        long d = 0;
        for (int i : trainable) d += network.parameters().get(i).size();
        return d;
    }

    @Override
    public BatchStats accumulateUnclipped(DeviceBatch batch) {
        check(batch);
        return run(batch, ClipTable.unclipped(trainable.length), batch.mask()); // min(1, inf/||g||) = 1
    }

    @Override
    public double[] perSampleGradientNorms(DeviceBatch batch) {
        check(batch);
        // An all-zero mask adds exactly nothing to the sum and to the metrics; the norms are computed regardless.
        run(batch, ClipTable.unclipped(trainable.length), new float[batch.slots()]);
        float[] norms = new float[batch.slots()];
        live().lastSlotNorms(norms, norms.length);
        double[] out = new double[norms.length];
        for (int i = 0; i < norms.length; i++) out[i] = norms[i];
        return out;
    }

    private BatchStats run(DeviceBatch batch, float[] clipTable, float[] mask) {
        try {
            live().runSteps(batch.inputs(), batch.labels(), mask, 1, clipTable, clipTable.length);
            return metrics();
        } catch (RuntimeException e) {
            throw new IllegalStateException("IPU step failed: " + e.getMessage(), e);
        }
    }

    private BatchStats metrics() {
        double[] m = new double[METRICS];
        live().readMetrics(m, METRICS);
        // Counts arrive as fp32 sums (correct is a mean over a slot's K copies): round, do not truncate.
        nonFinite += Math.round(m[5]);
        return new BatchStats(Math.round(m[0]), m[1], Math.round(m[2]), Math.round(m[3]), m[4], Math.round(m[5]));
    }

    /**
     * Real examples since this model was created whose per-sample gradient norm was NaN or infinite:
     * each added exactly 0 to the sum (it is counted in the samples, not in the clipped count).
     */
    long nonFiniteExamples() {
        return nonFinite;
    }

    @Override
    public void drainGradientSum(float[] into) {
        checkLength(into);
        if (hostPending) {
            double[] sum = new double[into.length];
            drainGradientSum(sum);
            for (int i = 0; i < sum.length; i++) into[i] = (float) sum[i];
            return;
        }
        live().drainGradientSum(into, into.length);
        stepMargin.drained();
    }

    /** The device's sum widened exactly, plus the calls already drained into the float64 host sum. */
    @Override
    public void drainGradientSum(double[] into) {
        checkLength(into.length);
        float[] device = callBuffer();
        live().drainGradientSum(device, device.length);
        for (int i = 0; i < into.length; i++) into[i] = (hostPending ? hostSum[i] : 0.0) + device[i];
        if (hostPending) java.util.Arrays.fill(hostSum, 0.0);
        hostPending = false;
        stepMargin.drained();
    }

    @Override
    public void readParameters(float[] into) {
        checkLength(into);
        live().saveParameters(into, into.length);
    }

    @Override
    public void writeParameters(float[] from) {
        checkLength(from);
        live().loadParameters(from, from.length);
    }

    @Override
    public BatchStats evaluate(DeviceBatch batch) {
        check(batch);
        try {
            live().evaluate(batch.inputs(), batch.labels(), batch.mask(), 1);
            return metrics();
        } catch (RuntimeException e) {
            throw new IllegalStateException("IPU evaluation failed: " + e.getMessage(), e);
        }
    }

    private void check(DeviceBatch batch) {
        if (batch.slots() != layout.slotsPerCall()) {
            throw new IllegalArgumentException(
                    "the IPU graph was compiled for " + layout.slotsPerCall() + " slots per call (" + layout
                            + ") but the device batch has " + batch.slots() + "; plan calls with IpuExecutionPlan");
        }
        if (batch.multiplicity() != multiplicity) {
            throw new IllegalArgumentException("the IPU graph was compiled for augmentation multiplicity "
                    + multiplicity + " but the batch has " + batch.multiplicity()
                    + "; set backend.settings.multiplicity to data.augmentation.multiplicity (" + batch.multiplicity()
                    + ")");
        }
        if (!batch.shape().equals(network.input())) {
            throw new IllegalArgumentException(
                    "batch shape " + batch.shape() + " differs from the network input " + network.input());
        }
        for (int label : batch.labels()) {
            if (label < 0 || label >= network.numClasses()) {
                throw new IllegalArgumentException("label " + label + " outside [0, " + network.numClasses() + ")");
            }
        }
    }

    private void checkLength(float[] v) {
        checkLength(v.length);
    }

    private void checkLength(int length) {
        if (length != parameterCount) {
            throw new IllegalArgumentException(
                    "parameter vector has length " + length + ", " + network.name() + " has " + parameterCount);
        }
    }

    private IpuSession live() {
        if (session == null) throw new IllegalStateException("IPU model is closed");
        return session;
    }

    @Override
    public void close() {
        if (session != null) {
            session.close();
            session.deallocate();
            session = null;
        }
    }

    @Override
    public String toString() {
        return "IpuTrainableModel[" + network.name() + ", " + layout + ", K=" + multiplicity + "]";
    }
}
