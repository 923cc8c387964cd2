package org.dpsgd.backend;

import java.util.Optional;
import org.dpsgd.model.Network;

/**
 * A network living on a backend. The backend's whole privacy-relevant job is
 * {@link #accumulateClipped}: per-sample gradients, clipped to L2 norm C, summed over real slots.
 * Noise, scaling, the optimizer, sampling and accounting stay in {@code common}, identical on every
 * backend. Parameters travel as one flat float vector in {@link Network#parameters()} order.
 */
public interface TrainableModel extends AutoCloseable {
    /** The network this model trains, which fixes the parameter order and count. */
    Network network();

    /**
     * Adds sum over real slots i of g_i · min(1, C / ||g_i||) to the gradient accumulator, where g_i is
     * the gradient of slot i's loss (the mean over its augmented copies) w.r.t. the trainable
     * parameters. Masked slots add exactly zero.
     */
    BatchStats accumulateClipped(DeviceBatch batch, double clipNorm);

    /**
     * As {@link #accumulateClipped(DeviceBatch, double)} under {@code policy}: per-layer policies clip
     * each parameter group of each slot to its own bound. A backend that cannot honour a policy
     * refuses it (never clips some other way).
     */
    default BatchStats accumulateClipped(DeviceBatch batch, ClipPolicy policy) {
        if (policy.isFlat()) return accumulateClipped(batch, policy.flatNorm());
        throw new UnsupportedOperationException(getClass().getSimpleName() + " does not support per-layer clipping ("
                + policy + "); use privacy.clipping: flat");
    }

    /** Non-private baseline: adds the unclipped per-sample gradient sum of the real slots. */
    BatchStats accumulateUnclipped(DeviceBatch batch);

    /** Unclipped per-sample gradient L2 norms of every slot (masked slots: whatever they are; callers ignore them). */
    double[] perSampleGradientNorms(DeviceBatch batch);

    /** Copies the accumulated gradient sum into {@code into} (length = parameter count) and zeroes the accumulator. */
    void drainGradientSum(float[] into);

    /**
     * Whose examples {@link #drainGradientSum(float[])} covers: this process's ({@link GradientScope#PROCESS}, every
     * backend by default) or, when the device sums across the processes of a data-parallel run itself,
     * the whole run's ({@link GradientScope#RUN}).
     */
    default GradientScope gradientScope() {
        return GradientScope.PROCESS;
    }

    /**
     * As {@link #drainGradientSum(float[])}, in double: a backend that accumulates in float64 hands
     * over its sums unrounded, so a float64 reference (an oracle for other strategies, devices or
     * backends) is not capped at float32 precision. This default drains floats and widens them, so
     * it is exactly as precise as the float path; backends with wider sums override it.
     */
    default void drainGradientSum(double[] into) {
        float[] f = new float[into.length];
        drainGradientSum(f);
        for (int i = 0; i < f.length; i++) into[i] = f[i];
    }

    /**
     * True when {@link #drainGradientSum(double[], int, int, int)} drains any coordinate range on its own,
     * so a caller can drain the float64 sum piece by piece through a small buffer. False by default:
     * the ranged drain then only takes the whole vector at once.
     */
    default boolean drainsRanges() {
        return false;
    }

    /**
     * Copies coordinates [from, to) of the float64 accumulated sum into {@code into[at .. at + to -
     * from)}, unrounded, and zeroes them in the accumulator; the other coordinates are left as they
     * are. The protocol: after an accumulation, disjoint ranges in ascending order until the whole
     * vector is drained, with no accumulation in between (a model may refuse anything else); that
     * hands over the same values as one {@link #drainGradientSum(double[])} and leaves the same empty
     * accumulator. Without {@link #drainsRanges()} (this
     * default) only the whole vector at once is accepted (from = 0, to = parameter count, at = 0);
     * anything else is refused with {@link UnsupportedOperationException}.
     */
    default void drainGradientSum(double[] into, int from, int to, int at) {
        long n = network().parameterCount();
        if (from == 0 && to == n && at == 0 && into.length == n) {
            drainGradientSum(into);
            return;
        }
        throw new UnsupportedOperationException(getClass().getSimpleName()
                + " drains its gradient sum only as a whole; asked for [" + from + ", " + to + ")");
    }

    /**
     * Tells the model B_cap, a data-independent bound on the real examples of one logical step over
     * all its calls (the trainer refuses a draw above it). A backend whose clipping margin counts
     * rounding terms across the whole step uses it (the DJL backend's cross-slot cap: removing one
     * example repacks every later one into other slots and calls); until it is told, such a backend
     * assumes a step of one call. This default ignores it: a backend with a per-call margin of its own.
     */
    default void boundStepExamples(int maxExamples) {}

    /**
     * Copies the current parameters into {@code into} (length = parameter count), in {@link Network#parameters()}
     * order.
     */
    void readParameters(float[] into);

    /** Replaces the parameters with {@code from} (length = parameter count), in {@link Network#parameters()} order. */
    void writeParameters(float[] from);

    /**
     * Optional capability: the non-private baseline's plain-SGD update done in place on the device
     * ({@link DeviceSgd}), so the trainer skips the drain, the host update and
     * {@link #writeParameters}. After it, a host copy of the parameters is stale until
     * {@link #readParameters} is called. This default offers none (the trainer then updates on the host).
     *
     * @return the device update, or empty when this model has none
     */
    default Optional<DeviceSgd> deviceSgd() {
        return Optional.empty();
    }

    /** Loss and accuracy of the real slots, no gradients. */
    BatchStats evaluate(DeviceBatch batch);

    @Override
    void close();
}
