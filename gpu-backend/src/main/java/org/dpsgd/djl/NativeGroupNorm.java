package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;

/**
 * PyTorch's own GroupNorm kernel ({@code torch.group_norm}: one fused native op forward,
 * normalisation and per-channel affine together, and one backward op for x, γ and β), which DJL's
 * JNI does not expose. It is reached through TorchScript, which DJL does expose: a module whose
 * forward is that single call, written here as source text (plus the few fixed bytes of a TorchScript
 * archive) and compiled by the engine's own libtorch when first used, one per group count and eps.
 * No binary file, no extra native code; the forward records autograd like any other op.
 *
 * <p>Used only where nothing is recorded for book-keeping (non-private steps, evaluation): the
 * private strategies' taps are built on the composed form. Null (keep the composed form) off the
 * CPU and for 16-bit types, where it has not been checked against the float64 definition
 * ({@code NativeGroupNormTest} does that on the CPU for float32 and float64).
 *
 * <p>Small maps (at most 4 positions, e.g. resnet18-gn's 1×1 and 2×2 maps at 3×32×32)
 * take another form: {@code torch.layer_norm} over each (sample, group) row [N, G, C/G·H·W] without
 * affine, then one {@code addcmul} on [N, C·H·W] with γ and β repeated H·W times. libtorch 2.7.1's group_norm kernel
 * works per channel in vectors of 16 floats and is slow when a channel has one to four values:
 * forward + backward of [64, 512, 1, 1] took 1.9–4.2 ms against 0.8 ms in this form, [64, 256, 2, 2]
 * 2.2 against 0.9 ms, while at 4×4 and up the fused kernel is faster (docs/benchmarks.md
 * "Session 8: the non-private step"). The same definition (biased variance, eps inside the root),
 * checked against the float64 definition like the fused kernel.
 */
final class NativeGroupNorm {
    // The largest map (H·W) that takes the layer-norm form; above it, the fused kernel. Changed only by the
    // in-process A/B tools (gpu-backend test classes).
    static int smallMap = 4;

    private final TorchScriptModules modules;

    NativeGroupNorm(NDManager manager) {
        this.modules = new TorchScriptModules(manager, "gn", "GroupNorm");
    }

    /**
     * GroupNorm of {@code x} [N, C, ...] with per-channel {@code gamma}, {@code beta} [C] as PyTorch's fused
     * kernel (small maps: layer norm and addcmul), or null where this path does not apply (see the class
     * comment).
     */
    NDArray apply(NDArray x, int groups, double eps, NDArray gamma, NDArray beta) {
        DataType t = x.getDataType();
        if (t != DataType.FLOAT32 && t != DataType.FLOAT64) return null;
        if (!x.getDevice().equals(Device.cpu())) return null;
        boolean small = x.getShape().dimension() == 4
                && x.getShape().get(2) * x.getShape().get(3) <= smallMap;
        if (small && x.getShape().get(1) % groups != 0) {
            throw new IllegalArgumentException(
                    "GroupNorm: " + x.getShape().get(1) + " channels are not divisible by " + groups + " groups");
        }
        // isTrain = true only means "no no-grad guard": whether autograd records is the caller's grad mode.
        return IValueUtils.forward(module(groups, eps, small), new NDList(x, gamma, beta), true)
                .singletonOrThrow();
    }

    private PtSymbolBlock module(int groups, double eps, boolean small) {
        return modules.get(groups + "/" + eps + "/" + small, () -> source(groups, eps, small));
    }

    /**
     * The TorchScript source of the module's one method: group count and eps are constants in it. {@code
     * small}: the layer-norm form for small 4-d maps (see the class comment), else the fused kernel.
     */
    static String source(int groups, double eps, boolean small) {
        if (groups < 1) throw new IllegalArgumentException("GroupNorm needs at least 1 group, got " + groups);
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("bad GroupNorm eps " + eps);
        // Double.toString is Python-readable ("1.0E-5") and round-trips the exact double.
        String head = "class GroupNorm(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__.GroupNorm, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:\n";
        if (!small) {
            return head + "    return torch.group_norm(x, " + groups + ", weight, bias, " + Double.toString(eps)
                    + ", False)\n";
        }
        // Rows (sample, group) of C/G·H·W values: NCHW keeps a group's channels together (apply checks that
        // the group count divides C, which torch.group_norm checks itself and this reshape alone would not).
        // The affine on [N, C·H·W] with γ and β repeated H·W times: their gradients are then column sums over
        // N (a contiguous reduction) and a [C, H·W] row sum, where a [1, C, 1, 1] broadcast's backward reduced
        // over (N, H, W) around C, twice as slow at 2×2 in total.
        String e = Double.toString(eps);
        return head
                + "    n = torch.size(x, 0)\n"
                + "    c = torch.size(x, 1)\n"
                + "    hw = torch.mul(torch.size(x, 2), torch.size(x, 3))\n"
                + "    rows = torch.reshape(x, [n, " + groups + ", -1])\n"
                + "    xh = torch.reshape(torch.layer_norm(rows, [torch.size(rows, 2)], None, None, " + e + ", False), "
                + "[n, -1])\n"
                + "    g = torch.reshape(torch.expand(torch.reshape(weight, [c, 1]), [c, hw]), [-1])\n"
                + "    b = torch.reshape(torch.expand(torch.reshape(bias, [c, 1]), [c, hw]), [-1])\n"
                + "    return torch.reshape(torch.addcmul(b, xh, g), torch.size(x))\n";
    }

    /** The module's TorchScript archive ({@link TorchScriptArchive}). */
    static byte[] archive(int groups, double eps, boolean small) {
        return TorchScriptArchive.of("gn", "GroupNorm", source(groups, eps, small));
    }
}
