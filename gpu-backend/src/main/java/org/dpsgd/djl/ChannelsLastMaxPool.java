package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;

/**
 * 2-D max pooling whose window search runs in PyTorch's channels-last (NHWC) CPU kernel, vectorised
 * over the channels, where the NCHW kernel DJL reaches scans each output's window in a scalar loop
 * (libtorch 2.7.1: about 7 ms forward for resnet18-gn's stem pool [64, 64, 16, 16], k 3, s 2, p 1, at
 * batch 64 on 2 threads, the largest single op of its non-private step after the convolutions).
 *
 * <p>Only the indices are taken from it: a detached channels-last copy of the input is pooled, its
 * indices (each window's position in its plane, h·W + w) are viewed as [N, C, OH·OW] (a view of the
 * channels-last index tensor, no copy: gather reads a strided index), and the output is {@code gather}
 * of the input planes [N, C, H·W] at those indices, contiguous NCHW. So autograd records one {@code gather}, whose
 * backward is a zero fill plus {@code scatter_add} of each output's gradient at its index, outputs in
 * order within each plane: what the NCHW kernel's backward does, in the same order. np7's first form
 * (session 7) kept the channels-last pool in the graph and paid for it in the backward: the
 * channels-last backward kernel plus two layout copies of the 4 MB input gradient ate the forward's gain.
 *
 * <p>Bit for bit the NCHW kernel's values and input gradients ({@code ChannelsLastMaxPoolTest}, float32
 * and float64, ties, ±inf, NaN, padding, odd sizes): both kernels scan a window in the same order, start
 * from -inf at the window's first in-bounds element, and take {@code val > max || isnan(val)} (the
 * first maximum, the last NaN); the index is the same, so the gathered value is the kernel's output and
 * the gradient goes where the kernel sends it. Per plane (sample, channel): no example's output reads
 * another's. Parameter-free and exact, so every strategy uses it, the recording ones included. Null
 * (keep DJL's NCHW call) off the CPU, for 16-bit types and for inputs that are not 4-d.
 */
final class ChannelsLastMaxPool {
    // DJL's engine applies this property (default true) when it loads.
    private static final boolean CONFIGURED_OPTIMIZE =
            Boolean.parseBoolean(System.getProperty("ai.djl.pytorch.graph_optimizer", "true"));
    // Off only in the in-process A/B tools (gpu-backend test classes), which time the step with and without it.
    static boolean enabled = true;
    private final TorchScriptModules modules;

    ChannelsLastMaxPool(NDManager manager) {
        this.modules = new TorchScriptModules(manager, "maxpool", "MaxPool");
    }

    /** Max pooling of {@code x} [N, C, H, W] (k×k window, stride s, padding p, floor mode), or null (see above). */
    NDArray apply(NDArray x, int k, int s, int p) {
        if (!enabled) return null;
        DataType t = x.getDataType();
        if (t != DataType.FLOAT32 && t != DataType.FLOAT64) return null;
        if (!x.getDevice().equals(Device.cpu()) || x.getShape().dimension() != 4) return null;
        PtSymbolBlock m = module(k, s, p);
        // The graph executor's optimiser (on by default in DJL) may, from the second call on, replace the
        // module's ops by a TorchScript autodiff graph with a backward of its own (np7 measured added copies).
        // Off, the module runs op by op and autograd records each op as in eager mode.
        // The flag is thread-local; it is set back to the engine's configured value after the call.
        JniUtils.setGraphExecutorOptimize(false);
        try {
            // isTrain = true only means "no no-grad guard": whether autograd records is the caller's grad mode.
            return IValueUtils.forward(m, new NDList(x), true).singletonOrThrow();
        } finally {
            JniUtils.setGraphExecutorOptimize(CONFIGURED_OPTIMIZE);
        }
    }

    private PtSymbolBlock module(int k, int s, int p) {
        return modules.get(k + "/" + s + "/" + p, () -> source(k, s, p));
    }

    /**
     * The module's source. memory_format=2 is torch.channels_last (serialized TorchScript spells the enum
     * as its number). The pool runs on a detached copy, so only the {@code gather} is recorded.
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
                + "    n = torch.size(x, 0)\n"
                + "    c = torch.size(x, 1)\n"
                + "    hw = torch.mul(torch.size(x, 2), torch.size(x, 3))\n"
                + "    pooled, where = torch.max_pool2d_with_indices(torch.detach(x).contiguous(memory_format=2), ["
                + k + ", " + k + "], [" + s + ", " + s + "], [" + p + ", " + p + "], [1, 1], False)\n"
                + "    idx = torch.reshape(where, [n, c, -1])\n"
                + "    y = torch.gather(torch.reshape(x, [n, c, hw]), 2, idx)\n"
                + "    return torch.reshape(y, torch.size(pooled))\n";
    }

    /** The module's TorchScript archive ({@link TorchScriptArchive}). */
    static byte[] archive(int k, int s, int p) {
        return TorchScriptArchive.of("maxpool", "MaxPool", source(k, s, p));
    }
}
