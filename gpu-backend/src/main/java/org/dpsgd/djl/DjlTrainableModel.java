package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.List;
import java.util.Optional;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.DeviceSgd;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Initializer;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * A network on the DJL backend. Clipping goes through the strategy named in
 * {@link ModelOptions#strategy()}; the unclipped sum and evaluation use plain batched autograd.
 * Every call runs inside its own NDScope, so nothing it creates outlives it.
 */
public final class DjlTrainableModel implements TrainableModel {
    private final Network network;
    private final NDManager manager;
    private final ModelRuntime rt;
    private final ClippingStrategy strategy;
    private final String strategyName;
    // Set by a clipped accumulation and cleared by a drain: a clipped (private) sum must get its noise
    // on the host, so the device update refuses to apply it.
    private boolean clippedSinceDrain;
    private InPlaceSgd inPlaceSgd; // compiled on the first device update

    /** Package-private: models come from {@link DjlBackend#createModel}, which has checked MKL's mode and the slot probe. */
    DjlTrainableModel(Network network, ModelOptions options, Device device, BackendOptions backendOptions) {
        this(network, options, device, backendOptions, RuleOptions.DEFAULT);
    }

    /** With the per-layer rules' path choices given (tests force each ghost/explicit and unfold path). */
    DjlTrainableModel(
            Network network, ModelOptions options, Device device, BackendOptions backendOptions, RuleOptions rules) {
        this.network = network;
        Precision precision = Precision.from(options.settings(), backendOptions.settings());
        LossScale lossScale = LossScale.from(options.settings(), backendOptions.settings(), precision);
        PrecisionSupport.check(precision, device);
        List<ParamSpec> specs = network.parameters();
        boolean[] trainable = new boolean[specs.size()];
        for (int i = 0; i < specs.size(); i++)
            trainable[i] = !options.isFrozen(specs.get(i).name());
        for (String prefix : options.frozenPrefixes()) {
            if (specs.stream().noneMatch(p -> p.name().startsWith(prefix))) {
                throw new IllegalArgumentException("frozen prefix '" + prefix + "' matches no parameter of "
                        + network.name() + " (names look like " + specs.get(0).name() + ", "
                        + specs.get(specs.size() - 1).name() + ")");
            }
        }
        long seed = Long.parseLong(options.settings().getOrDefault("seed", "0"));
        this.manager = NDManager.newBaseManager(device);
        try {
            Constants constants = new Constants(manager, precision);
            ParameterStore store = new ParameterStore(
                    manager, precision, lossScale, network, trainable, Initializer.initialize(network, seed));
            this.rt = new ModelRuntime(network, manager, precision, store, constants, rules);
            rt.taps = new TapPhases(TapPhases.enabled(backendOptions), device);
            rt.graphCuts = GraphCuts.enabled(backendOptions);
            this.strategyName = options.strategy();
            this.strategy = ClippingStrategy.create(options.strategy(), rt);
        } catch (RuntimeException | Error e) {
            // A refused strategy or path must not leave the parameters' native memory behind.
            manager.close();
            throw e;
        }
    }

    /** The runtime the strategies share (tests swap its {@link TapPhases}). */
    ModelRuntime runtime() {
        return rt;
    }

    public String strategy() {
        return strategyName.equals("auto") ? "bookkeeping" : strategyName;
    }

    @Override
    public Network network() {
        return network;
    }

    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
        if (!(clipNorm > 0) || Double.isInfinite(clipNorm)) {
            throw new IllegalArgumentException("clip norm must be a positive finite number, got " + clipNorm);
        }
        clippedSinceDrain = true;
        return strategy.run(batch, ClipPolicy.flat(clipNorm), true, new double[batch.slots()]);
    }

    /** Flat or per-layer clipping, on every strategy; per-layer groups follow {@code policy.groupOf(parameter)}. */
    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, ClipPolicy policy) {
        int[] groups = policy.groupOfParameter();
        if (groups != null && groups.length != network.parameters().size()) {
            throw new IllegalArgumentException("clip policy gives groups for " + groups.length
                    + " parameter tensors but " + network.name() + " has "
                    + network.parameters().size() + "; build it with ClipPolicies.from for this network");
        }
        clippedSinceDrain = true;
        return strategy.run(batch, policy, true, new double[batch.slots()]);
    }

    @Override
    public BatchStats accumulateUnclipped(DeviceBatch batch) {
        rt.checkBatch(batch);
        ParameterStore store = rt.store;
        store.freshLeaves(true);
        int slots = batch.slots();
        int k = batch.multiplicity();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray[] out = ModelRuntime.withGrad(() -> {
                NDArray logits = rt.lowered.forward(rt.inputs(batch, 0, slots), Tape.NONE);
                NDArray loss = ModelRuntime.perSlotLoss(logits, rt.oneHot(batch, 0, slots), slots, k);
                if (store.anyTrainable()) rt.backward(loss.mul(rt.mask(batch)).sum());
                return new NDArray[] {logits, loss};
            });
            for (int i = 0; i < store.count(); i++) {
                if (store.trainable(i)) store.accumulateGradient(i);
            }
            return stats(batch, out[0], out[1]);
        } finally {
            // Also after an exception: a recorded (book-keeping) pass relies on no parameter requiring a gradient.
            store.freshLeaves(false);
        }
    }

    /** The parameters and accumulators, for tests that put them in a state a failed call could leave. */
    ParameterStore store() {
        return rt.store;
    }

    @Override
    public double[] perSampleGradientNorms(DeviceBatch batch) {
        double[] norms = new double[batch.slots()];
        if (strategyName.equals("nonprivate")) {
            new MicrobatchStrategy(rt).run(batch, ClippingStrategy.MEASURE_ONLY, false, norms);
        } else {
            strategy.run(batch, ClippingStrategy.MEASURE_ONLY, false, norms);
        }
        return norms;
    }

    /** The cross-slot cap counts the whole step's examples, B_cap, not one call's slots (ClipBound). */
    @Override
    public void boundStepExamples(int maxExamples) {
        ClipBound.checkStepExamples(maxExamples);
        rt.stepExamples = maxExamples;
    }

    @Override
    public void drainGradientSum(float[] into) {
        rt.store.drain(into);
        clippedSinceDrain = false;
    }

    /** The accumulator is float64 in every dtype: this hands it over unrounded. */
    @Override
    public void drainGradientSum(double[] into) {
        rt.store.drain(into);
        clippedSinceDrain = false;
    }

    /**
     * Plain SGD in place on the parameter tensors from the device accumulator ({@link InPlaceSgd}: one
     * fused pass in float32, the host's roundings replayed in float64); none under mixed precision.
     */
    @Override
    public Optional<DeviceSgd> deviceSgd() {
        return rt.precision.mixed() ? Optional.empty() : Optional.of(this::sgdStep);
    }

    private void sgdStep(int realizedBatchSize, double lr) {
        if (realizedBatchSize < 1)
            throw new IllegalArgumentException("the device update needs at least 1 example, got " + realizedBatchSize);
        if (!(lr > 0) || Double.isInfinite(lr))
            throw new IllegalArgumentException("learning rate must be a positive finite number, got " + lr);
        if (clippedSinceDrain) {
            throw new IllegalStateException("the gradient accumulator holds a clipped (private) sum, which gets its "
                    + "noise on the host: drain it, never apply it with the device update");
        }
        if (inPlaceSgd == null) inPlaceSgd = new InPlaceSgd(manager);
        rt.store.sgdStep(inPlaceSgd, realizedBatchSize, lr);
    }

    /** Ranged float64 drains read each parameter's device sum in place: no full-length host copy. */
    @Override
    public boolean drainsRanges() {
        return true;
    }

    @Override
    public void drainGradientSum(double[] into, int from, int to, int at) {
        rt.store.drain(into, from, to, at);
        if (rt.store.isEmpty()) clippedSinceDrain = false; // only once every piece is out
    }

    @Override
    public void readParameters(float[] into) {
        rt.store.read(into);
    }

    @Override
    public void writeParameters(float[] from) {
        rt.store.write(from);
    }

    @Override
    public BatchStats evaluate(DeviceBatch batch) {
        rt.checkBatch(batch);
        int slots = batch.slots();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return ModelRuntime.withoutGrad(() -> {
                NDArray logits = rt.lowered.forward(rt.inputs(batch, 0, slots), Tape.NONE);
                NDArray loss =
                        ModelRuntime.perSlotLoss(logits, rt.oneHot(batch, 0, slots), slots, batch.multiplicity());
                return stats(batch, logits, loss);
            });
        }
    }

    private BatchStats stats(DeviceBatch batch, NDArray logits, NDArray loss) {
        double[] l = Precision.toDoubles(loss);
        long[] pred = ModelRuntime.predictions(logits, batch.slots(), batch.multiplicity());
        long samples = 0;
        long correct = 0;
        double lossSum = 0;
        for (int i = 0; i < batch.slots(); i++) {
            if (batch.mask()[i] == 0f) continue;
            samples++;
            lossSum += l[i];
            if (pred[i] == batch.labels()[i]) correct++;
        }
        return new BatchStats(samples, lossSum, correct, 0, 0);
    }

    /** Logits of every copy [slots*K*classes], row-major, in double; for tests of the lowering. */
    double[] logits(DeviceBatch batch) {
        rt.checkBatch(batch);
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return ModelRuntime.withoutGrad(
                    () -> Precision.toDoubles(rt.lowered.forward(rt.inputs(batch, 0, batch.slots()), Tape.NONE)));
        }
    }

    /** The accumulated gradient sum in float64 [parameterCount], without draining it; for tests that need more than float32. */
    double[] gradientSum64() {
        ParameterStore store = rt.store;
        int[] offsets = network.parameterOffsets();
        double[] out = new double[(int) network.parameterCount()];
        for (int i = 0; i < store.count(); i++) {
            double[] a = Precision.toDoubles(store.accumulator(i));
            System.arraycopy(a, 0, out, offsets[i], a.length);
        }
        return out;
    }

    /** Arrays currently alive in this model's manager (parameters, accumulators, constants); tests use it to find leaks. */
    int liveArrays() {
        return manager.getManagedArrays().size();
    }

    @Override
    public void close() {
        manager.close();
    }
}
