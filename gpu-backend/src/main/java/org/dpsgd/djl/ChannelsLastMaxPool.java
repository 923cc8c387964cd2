package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * 2-D max pooling through PyTorch's channels-last (NHWC) CPU kernel, which is vectorised over the
 * channels, where the NCHW kernel DJL reaches scans one plane at a time: resnet18-gn's stem pool
 * ([64, 64, 16, 16], k 3, s 2, p 1) took 11.6 ms forward against 2 ms forward and backward this way
 * (docs/benchmarks.md "Session 7"). The input is copied to channels-last, pooled, and the (4× smaller)
 * output copied back to contiguous NCHW, so every other op still sees the layout it always did: a
 * whole-network channels-last forward was measured 1.4–1.5× slower (GroupNorm's channels-last kernels
 * and weight reorders); the input gradient goes back as NCHW too (see {@link #source}). DJL has no
 * memory_format argument, so the three calls are a TorchScript module
 * compiled from source text ({@link TorchScriptArchive}), one per window, stride and padding.
 *
 * <p>Bit for bit the NCHW kernel's result, forward and backward: both kernels scan a window in the same
 * order, keep the first strict maximum (NaN wins), and scatter the output gradient to that index in
 * output order ({@code ChannelsLastMaxPoolTest}). Parameter-free, so the private strategies share it.
 * Null (keep DJL's NCHW call) off the CPU and for 16-bit types, which are not checked.
 */
final class ChannelsLastMaxPool {
    // DJL's engine applies this property (default true) when it loads.
    private static final boolean CONFIGURED_OPTIMIZE =
            Boolean.parseBoolean(System.getProperty("ai.djl.pytorch.graph_optimizer", "true"));
    // Off only in NonPrivateStepAb (gpu-backend test classes), which times the step with and without it in one process.
    static boolean enabled = true;
    private final NDManager manager;
    private final Map<String, PtSymbolBlock> modules = new HashMap<>();

    ChannelsLastMaxPool(NDManager manager) {
        this.manager = manager;
    }

    /** Max pooling of {@code x} [N, C, H, W] (k×k window, stride s, padding p, floor mode), or null (see above). */
    NDArray apply(NDArray x, int k, int s, int p) {
        if (!enabled) return null;
        DataType t = x.getDataType();
        if (t != DataType.FLOAT32 && t != DataType.FLOAT64) return null;
        if (!x.getDevice().equals(Device.cpu()) || x.getShape().dimension() != 4) return null;
        PtSymbolBlock m = module(k, s, p);
        // The graph executor's optimiser (on by default in DJL) would, from the second call on, replace
        // the three ops by a TorchScript autodiff graph whose backward adds copies (measured: slower than
        // the NCHW kernel). Off, the module runs op by op and autograd records each op as in eager mode.
        // The flag is thread-local; it is set back to the engine's configured value after the call.
        JniUtils.setGraphExecutorOptimize(false);
        try {
            // isTrain = true only means "no no-grad guard": whether autograd records is the caller's grad mode.
            return IValueUtils.forward(m, new NDList(x), true).singletonOrThrow();
        } finally {
            JniUtils.setGraphExecutorOptimize(CONFIGURED_OPTIMIZE);
        }
    }

    private synchronized PtSymbolBlock module(int k, int s, int p) {
        String key = k + "/" + s + "/" + p;
        PtSymbolBlock m = modules.get(key);
        if (m == null) {
            try {
                // The block belongs to the model's manager and is freed with it.
                m = JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive(k, s, p)), true, false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            modules.put(key, m);
        }
        return m;
    }

    /**
     * The module's source: memory_format=2 is torch.channels_last (serialized TorchScript spells the
     * enum as its number); the final contiguous() restores NCHW. The two reshapes are views forward; they
     * are there for the backward, which would otherwise hand the channels-last input gradient of the
     * pool to the layers before it (the copies' backward is the identity), and their mixed-layout
     * kernels were measured slower (small-cnn: ReLU backward and conv backward): the backward of the
     * first reshape, merging N and C, cannot view a channels-last gradient and copies it to NCHW.
     */
    static String source(int k, int s, int p) {
        if (k < 1 || s < 1 || p < 0 || 2 * p > k) {
            throw new IllegalArgumentException("bad max-pool window " + k + ", stride " + s + ", padding " + p);
        }
        return "class MaxPool(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__.MaxPool, x: Tensor) -> Tensor:\n"
                + "    s = x.size()\n"
                + "    v = x.reshape([s[0] * s[1], s[2], s[3]]).reshape(s)\n"
                + "    y = torch.max_pool2d(v.contiguous(memory_format=2), [" + k + ", " + k + "], [" + s + ", " + s
                + "], [" + p + ", " + p + "], [1, 1], False)\n"
                + "    return y.contiguous()\n";
    }

    /** The module's TorchScript archive ({@link TorchScriptArchive}). */
    static byte[] archive(int k, int s, int p) {
        return TorchScriptArchive.of("maxpool", "MaxPool", source(k, s, p));
    }
}
