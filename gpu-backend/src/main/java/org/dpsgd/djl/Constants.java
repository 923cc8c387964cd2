package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Long-lived constants (layer-norm unit weights and zero biases, im2col kernels, the compiled GroupNorm
 * and max-pool kernels), created once per model.
 */
final class Constants {
    private final NDManager manager;
    private final Precision precision;
    private final Map<String, NDArray> cache = new HashMap<>();
    private NativeGroupNorm groupNorm;
    private NativeConvUnfold convUnfold;
    private ChannelsLastMaxPool maxPool;

    Constants(NDManager manager, Precision precision) {
        this.manager = manager;
        this.precision = precision;
    }

    NDArray ones(long n) {
        return get("ones" + n, m -> m.ones(new Shape(n), precision.type));
    }

    NDArray zeros(long n) {
        return get("zeros" + n, m -> m.zeros(new Shape(n), precision.type));
    }

    /**
     * The fixed kernel [C·k·k, C, k, k] that makes a convolution an im2col: output channel
     * c·k·k + j copies input channel c at kernel position j, which is PyTorch's weight order.
     */
    NDArray oneHotKernel(int channels, int k) {
        return get("onehot" + channels + "x" + k, m -> {
            int kk = k * k;
            int d = channels * kk;
            double[] w = new double[d * channels * kk];
            for (int c = 0; c < channels; c++) {
                for (int j = 0; j < kk; j++) w[((c * kk + j) * channels + c) * kk + j] = 1.0;
            }
            return precision.toCompute(precision.create(m, w, new Shape(d, channels, k, k)));
        });
    }

    /** PyTorch's fused GroupNorm kernel, compiled once per model (see {@link NativeGroupNorm}). */
    synchronized NativeGroupNorm groupNorm() {
        if (groupNorm == null) groupNorm = new NativeGroupNorm(manager);
        return groupNorm;
    }

    /** Max pooling through the channels-last kernel's indices, compiled once per window (see {@link ChannelsLastMaxPool}). */
    synchronized ChannelsLastMaxPool maxPool() {
        if (maxPool == null) maxPool = new ChannelsLastMaxPool(manager);
        return maxPool;
    }

    /** Strided-view unfolds and per-sample conv gradients, compiled once per geometry (see {@link NativeConvUnfold}). */
    synchronized NativeConvUnfold convUnfold() {
        if (convUnfold == null) convUnfold = new NativeConvUnfold(manager);
        return convUnfold;
    }

    // Synchronized: the book-keeping taps may ask for a constant from two threads at once (TapPhases).
    private synchronized NDArray get(String key, Function<NDManager, NDArray> make) {
        NDArray a = cache.get(key);
        if (a == null) {
            a = make.apply(manager);
            NDScope.unregister(a);
            cache.put(key, a);
        }
        return a;
    }
}
