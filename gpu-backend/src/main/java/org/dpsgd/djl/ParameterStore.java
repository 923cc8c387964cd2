package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dpsgd.model.Network;
import org.dpsgd.model.ParamSpec;

/**
 * The network's parameters as device arrays (PyTorch layouts, {@link Network#parameters()} order),
 * which of them are trainable, and the device-side accumulator of the (clipped) gradient sum. The
 * accumulator is float64 whatever the dtype, so sums over many calls add no float32 rounding per
 * call. A private step drains it in float64 ({@link #drain(double[])}) and the trainer adds the
 * noise before any rounding to float32 (docs/core.md, "Float margin", item 5 (b)); the
 * float32 drain ({@link #drain(float[])}) is never used before the noise of a private step.
 *
 * <p>Mixed precision ({@link Precision#mixed()}): the master weights stay in fp32 (what
 * {@link #read} returns, exactly what was written); {@link #value} is their copy in the compute
 * type, the autograd leaf whose gradient the strategies read through {@link #gradient}.
 */
final class ParameterStore {
    private final NDManager manager;
    private final Precision precision;
    private final List<ParamSpec> specs;
    private final int[] offsets;
    private final boolean[] trainable;
    private final NDArray[] values;
    private final NDArray[] masters; // == values unless mixed
    // A CPU parameter's own memory (non-mixed): written in place by write(), so a step allocates no new
    // parameters (45 MB for resnet18-gn, page faults and all). Only the memory changes, which autograd never
    // sees; that is safe because no graph outlives the call that built it (each runs in its own scope from
    // fresh leaves, views of this same memory) and no array made from a parameter is kept across calls.
    private final ByteBuffer[] memory;
    private final LossScale lossScale;
    // null = all zeros: allocated by the first add after a drain. A sum of one unscaled float32/float64
    // gradient (the non-private step's) is kept as that gradient itself (pending[i]) and cast to float64
    // only if a second add comes; a drain copies it out directly. Either way the values are exactly those
    // of a float64 zero array plus the gradient, without the zero fill, the add and two casts.
    private final NDArray[] accumulators;
    private final NDArray[] pending;
    // How many leading coordinates of parameter i's sum a ranged drain (drain(double[], int, int, int))
    // has handed over so far; 0 when none. The sum is dropped once its last coordinate is drained.
    private final int[] drainedPrefix;
    private final Map<String, Integer> index = new HashMap<>();

    ParameterStore(
            NDManager manager,
            Precision precision,
            LossScale lossScale,
            Network network,
            boolean[] trainable,
            float[] initial) {
        this.manager = manager;
        this.precision = precision;
        this.lossScale = lossScale;
        this.specs = network.parameters();
        this.offsets = network.parameterOffsets();
        this.trainable = trainable.clone();
        this.values = new NDArray[specs.size()];
        this.masters = precision.mixed() ? new NDArray[specs.size()] : values;
        this.memory = new ByteBuffer[specs.size()];
        this.accumulators = new NDArray[specs.size()];
        this.pending = new NDArray[specs.size()];
        this.drainedPrefix = new int[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            index.put(specs.get(i).name(), i);
        }
        write(initial);
    }

    int count() {
        return specs.size();
    }

    int indexOf(String name) {
        Integer i = index.get(name);
        if (i == null) throw new IllegalStateException("no parameter named " + name);
        return i;
    }

    ParamSpec spec(int i) {
        return specs.get(i);
    }

    boolean trainable(int i) {
        return trainable[i];
    }

    boolean anyTrainable() {
        for (boolean t : trainable) if (t) return true;
        return false;
    }

    NDArray value(int i) {
        return values[i];
    }

    /**
     * The gradient of {@code leaf} (a parameter's {@link #value} or a tap's zero leaf) after the backward
     * pass, in float64 with the loss scale divided out: what every norm and clipped sum is computed from.
     */
    NDArray gradient(NDArray leaf) {
        return lossScale.unscaled(leaf.getGradient());
    }

    /**
     * The gradient of {@code leaf} as the backward pass produced it, cast up to at least float32 (exact),
     * the loss scale still in: for forming per-sample gradients before {@link LossScale#unscaled}.
     */
    NDArray rawGradient(NDArray leaf) {
        return Precision.atLeast32(leaf.getGradient());
    }

    LossScale lossScale() {
        return lossScale;
    }

    /** Parameter i's float64 accumulator, allocated as zeros if nothing was added since the last drain. */
    NDArray accumulator(int i) {
        checkNotPartlyDrained(i);
        if (pending[i] != null) {
            NDArray p = pending[i];
            // Into storage of its own: a copy (float64) or the widening cast (float32), never the gradient itself.
            accumulators[i] =
                    keep(p.getDataType() == DataType.FLOAT64 ? p.duplicate() : p.toType(DataType.FLOAT64, false));
            p.close();
            pending[i] = null;
        }
        if (accumulators[i] == null) accumulators[i] = keep(manager.zeros(shape(i), DataType.FLOAT64));
        return accumulators[i];
    }

    /** Whether {@link #addToAccumulator} adopts the first sum; false only in same-process A/B measurements. */
    static volatile boolean adoptFirstSum = true;

    /**
     * Adds {@code sum}, a float64 array of parameter i's size that nothing else holds or writes (a clipped sum
     * just computed), to its accumulator. The first add after a drain adopts it as the accumulator instead of
     * adding it to zeros: 0 + s is s exactly, and the zero-filled float64 allocation and a pass over it are saved
     * (resnet18-gn: 11.2 M coordinates, 90 MB, per step).
     */
    void addToAccumulator(int i, NDArray sum) {
        checkNotPartlyDrained(i);
        if (sum.getDataType() != DataType.FLOAT64)
            throw new IllegalArgumentException("a clipped sum is float64, got " + sum.getDataType());
        if (adoptFirstSum && accumulators[i] == null && pending[i] == null) {
            accumulators[i] = keep(sum.reshape(shape(i)));
            return;
        }
        NDArray acc = accumulator(i);
        acc.addi(sum.reshape(acc.getShape()));
    }

    /** Whether nothing was added to parameter i since the last drain. */
    boolean accumulatorEmpty(int i) {
        return accumulators[i] == null && pending[i] == null;
    }

    /**
     * Adds trainable parameter i's autograd gradient ({@link #gradient} of its {@link #value}) to its
     * accumulator. The first add after a drain keeps the gradient as it is when it needs no unscaling
     * and is float32 or float64 (0 + g is g exactly, and float32 widens to float64 exactly); nothing ever
     * writes into it (a second add or {@link #accumulator} copies it first), so a gradient tensor that
     * PyTorch shares between parameters is never changed through another.
     */
    void accumulateGradient(int i) {
        checkNotPartlyDrained(i);
        if (accumulators[i] == null && pending[i] == null) {
            NDArray raw = values[i].getGradient();
            DataType t = raw.getDataType();
            if (lossScale.isOne() && (t == DataType.FLOAT32 || t == DataType.FLOAT64)) {
                pending[i] = keep(raw);
                return;
            }
            accumulators[i] = keep(lossScale.unscaled(raw));
            return;
        }
        accumulator(i).addi(gradient(values[i]));
    }

    Shape shape(int i) {
        int[] s = specs.get(i).shape();
        long[] l = new long[s.length];
        for (int k = 0; k < s.length; k++) l[k] = s[k];
        return new Shape(l);
    }

    /**
     * Makes every trainable parameter a fresh autograd leaf (a detached view of the same storage,
     * no copy) that requires a gradient or not. Fresh leaves are used instead of zeroing .grad in
     * place: PyTorch may hand two parameters the very same gradient tensor (e.g. the biases of two
     * GroupNorms whose outputs are summed, at batch size 1), and an in-place zero followed by
     * accumulation would then count the next gradient twice.
     */
    void freshLeaves(boolean requireGradient) {
        for (int i = 0; i < values.length; i++) {
            if (!trainable[i]) continue;
            NDArray fresh = keep(values[i].stopGradient());
            if (requireGradient) fresh.setRequiresGradient(true);
            values[i].close();
            values[i] = fresh;
        }
    }

    void read(float[] into) {
        checkLength(into.length);
        for (int i = 0; i < masters.length; i++) Precision.copyOut(masters[i], into, offsets[i]);
    }

    /**
     * Sets every parameter: on the CPU in place, into the memory of the array the first write made (see
     * {@link #memory}); elsewhere a fresh array (a new leaf). When mixed, a fresh fp32 master and its
     * compute copy (rounded once per write, i.e. once per step).
     */
    void write(float[] from) {
        checkLength(from.length);
        for (int i = 0; i < values.length; i++) {
            int len = specs.get(i).size();
            if (memory[i] != null) {
                put(memory[i], from, offsets[i], len);
                continue;
            }
            NDArray fresh = keep(owned(from, offsets[i], len, shape(i)));
            // A non-mixed CPU parameter keeps its memory from now on: later writes go straight into it.
            if (!precision.mixed() && manager.getDevice().equals(Device.cpu()))
                memory[i] = ((PtNDArray) fresh).toByteBuffer(true);
            if (precision.mixed()) {
                if (masters[i] != null) masters[i].close();
                masters[i] = fresh;
                fresh = keep(precision.toCompute(fresh));
            }
            if (values[i] != null) values[i].close();
            values[i] = fresh;
        }
    }

    /**
     * A new array of the master type that owns its native memory, holding {@code len} floats of
     * {@code src} from {@code off}. Parameters must own their memory (arrays made from Java data
     * borrow a Java-owned buffer), because freshLeaves() keeps detached views after the original
     * handle is closed. On the CPU the values are written straight into an empty tensor's memory (one
     * copy); on other devices through a host array and a copy to the device.
     */
    private NDArray owned(float[] src, int off, int len, Shape shape) {
        if (!manager.getDevice().equals(Device.cpu())) {
            NDArray host = precision.create(manager, src, off, len, shape);
            NDArray fresh = host.duplicate();
            host.close();
            return fresh;
        }
        NDArray fresh = manager.create(shape, precision.master); // uninitialised; every element written below
        put(((PtNDArray) fresh).toByteBuffer(true), src, off, len); // the tensor's own memory, native order
        return fresh;
    }

    /** Writes {@code len} floats of {@code src} from {@code off} into a parameter's memory, in the master type. */
    private void put(ByteBuffer memory, float[] src, int off, int len) {
        if (precision.master == DataType.FLOAT32) {
            memory.asFloatBuffer().put(src, off, len);
        } else {
            DoubleBuffer d = memory.asDoubleBuffer();
            for (int k = 0; k < len; k++) d.put(k, src[off + k]);
        }
    }

    /**
     * Copies the accumulated sums to the host, rounded to float32, and empties the accumulators. The
     * rounding is the engine's float64 to float32 cast (round to nearest even, as Java's (float) cast):
     * one native pass and one copy instead of a float64 copy to the host and a Java loop.
     */
    void drain(float[] into) {
        checkLength(into.length);
        for (int i = 0; i < values.length; i++) checkNotPartlyDrained(i);
        for (int i = 0; i < values.length; i++) {
            int len = specs.get(i).size();
            NDArray sum = pending[i] != null ? pending[i] : accumulators[i];
            if (sum == null) {
                java.util.Arrays.fill(into, offsets[i], offsets[i] + len, 0f);
                continue;
            }
            // The scope frees the cast, its host copy (other devices) and any contiguous copy toByteBuffer makes.
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                NDArray host = sum.toType(DataType.FLOAT32, false).toDevice(Device.cpu(), false);
                ((PtNDArray) host).toByteBuffer(true).asFloatBuffer().get(into, offsets[i], len);
            }
            resetAccumulator(i);
        }
    }

    /** As {@link #drain(float[])} without rounding: the float64 sums themselves. */
    void drain(double[] into) {
        checkLength(into.length);
        for (int i = 0; i < values.length; i++) checkNotPartlyDrained(i);
        for (int i = 0; i < values.length; i++) {
            int len = specs.get(i).size();
            NDArray sum = pending[i] != null ? pending[i] : accumulators[i];
            if (sum == null) {
                java.util.Arrays.fill(into, offsets[i], offsets[i] + len, 0.0);
                continue;
            }
            try (NDScope scope = new NDScope()) { // frees the widening cast of a kept float32 gradient
                scope.suppressNotUsedWarning();
                double[] a = Precision.toDoubles(sum);
                System.arraycopy(a, 0, into, offsets[i], a.length);
            }
            resetAccumulator(i);
        }
    }

    /**
     * The non-private update in place ({@link InPlaceSgd}): every parameter with a sum since the last
     * drain gets p ← p − lr · S / {@code realized}; the rest (frozen, or no examples) are unchanged,
     * as the host's update leaves them. Then the accumulators are emptied, as by a drain, also when
     * the update fails. Not for mixed precision (its fp32 masters have a compute copy to refresh).
     */
    void sgdStep(InPlaceSgd sgd, int realized, double lr) {
        if (precision.mixed()) throw new IllegalStateException("in-place SGD does not support mixed precision");
        List<NDArray> params = new java.util.ArrayList<>();
        List<NDArray> sums = new java.util.ArrayList<>();
        for (int i = 0; i < values.length; i++) {
            NDArray sum = pending[i] != null ? pending[i] : accumulators[i];
            if (sum == null) continue;
            checkNotPartlyDrained(i);
            params.add(masters[i]);
            sums.add(sum);
        }
        try {
            sgd.step(params, sums, realized, lr);
        } finally {
            for (int i = 0; i < values.length; i++) resetAccumulator(i);
        }
    }

    /**
     * As {@link #drain(double[])} for the flat coordinates [from, to) alone, into {@code into[at ..]}:
     * each parameter's float64 sum is read where it lies (on the CPU straight from the tensor's memory,
     * elsewhere through a host copy of the piece's slice of it), so no full-length host copy is made. Ranges
     * must come in ascending order within a parameter; a parameter's sum is dropped (as by the whole
     * drain) when its last coordinate has been drained, and nothing may be added to a partly drained one.
     */
    void drain(double[] into, int from, int to, int at) {
        if (from < 0
                || from > to
                || to
                        > offsets[offsets.length - 1]
                                + specs.get(specs.size() - 1).size())
            throw new IllegalArgumentException("bad drain range [" + from + ", " + to + ")");
        if (at < 0 || at + (to - from) > into.length)
            throw new IllegalArgumentException("drain range of " + (to - from) + " does not fit at " + at);
        for (int i = 0; i < values.length; i++) {
            int off = offsets[i], len = specs.get(i).size();
            int lo = Math.max(from, off) - off, hi = Math.min(to, off + len) - off;
            if (lo >= hi) continue;
            if (lo != drainedPrefix[i])
                throw new IllegalStateException("parameter " + specs.get(i).name() + " drained from " + lo + " but "
                        + drainedPrefix[i] + " of it were drained so far");
            int dst = at + off + lo - from;
            NDArray sum = pending[i] != null ? pending[i] : accumulators[i];
            if (sum == null) {
                java.util.Arrays.fill(into, dst, dst + hi - lo, 0.0);
            } else {
                // The scope frees a host copy (other devices) and any contiguous copy toByteBuffer makes.
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    // On the CPU the tensor's own memory; elsewhere only the piece's slice is copied over.
                    boolean cpu = sum.getDevice().equals(Device.cpu());
                    NDArray host =
                            cpu ? sum : sum.reshape(-1).get(lo + ":" + hi).toDevice(Device.cpu(), false);
                    int first = cpu ? lo : 0;
                    ByteBuffer bytes = ((PtNDArray) host).toByteBuffer(true);
                    if (host.getDataType() == DataType.FLOAT64) {
                        bytes.asDoubleBuffer().get(first, into, dst, hi - lo);
                    } else if (host.getDataType() == DataType.FLOAT32) { // a kept float32 gradient: widened exactly
                        java.nio.FloatBuffer f = bytes.asFloatBuffer();
                        for (int k = 0; k < hi - lo; k++) into[dst + k] = f.get(first + k);
                    } else {
                        throw new IllegalStateException("gradient sum of type " + host.getDataType());
                    }
                }
            }
            if (hi == len) {
                resetAccumulator(i);
                drainedPrefix[i] = 0;
            } else {
                drainedPrefix[i] = hi;
            }
        }
    }

    /** True when no parameter holds a gradient sum (nothing added since the last drain, or all drained). */
    boolean isEmpty() {
        for (int i = 0; i < values.length; i++) if (pending[i] != null || accumulators[i] != null) return false;
        return true;
    }

    private void checkNotPartlyDrained(int i) {
        if (drainedPrefix[i] != 0)
            throw new IllegalStateException(
                    "the gradient sum of " + specs.get(i).name() + " is partly drained (" + drainedPrefix[i] + " of "
                            + specs.get(i).size() + "): drain the rest first");
    }

    private void resetAccumulator(int i) {
        // Dropped, not zeroed in place (nor x - x): a non-finite value can never survive a drain, and the
        // next add allocates a fresh array.
        if (pending[i] != null) pending[i].close();
        if (accumulators[i] != null) accumulators[i].close();
        pending[i] = null;
        accumulators[i] = null;
    }

    private void checkLength(int n) {
        long expected = 0;
        for (ParamSpec p : specs) expected += p.size();
        if (n != expected) {
            throw new IllegalArgumentException(
                    "parameter vector has length " + n + " but the network has " + expected + " parameters");
        }
    }

    /** Long-lived arrays must survive any NDScope a caller may have open. */
    private static NDArray keep(NDArray a) {
        NDScope.unregister(a);
        return a;
    }
}
