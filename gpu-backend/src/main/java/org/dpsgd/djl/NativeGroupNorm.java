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
 */
final class NativeGroupNorm {
    private final NDManager manager;
    private final Map<String, PtSymbolBlock> modules = new HashMap<>();

    NativeGroupNorm(NDManager manager) {
        this.manager = manager;
    }

    /**
     * GroupNorm of {@code x} [N, C, ...] with per-channel {@code gamma}, {@code beta} [C] as one native
     * op, or null where this path does not apply (see the class comment).
     */
    NDArray apply(NDArray x, int groups, double eps, NDArray gamma, NDArray beta) {
        DataType t = x.getDataType();
        if (t != DataType.FLOAT32 && t != DataType.FLOAT64) return null;
        if (!x.getDevice().equals(Device.cpu())) return null;
        // isTrain = true only means "no no-grad guard": whether autograd records is the caller's grad mode.
        return IValueUtils.forward(module(groups, eps), new NDList(x, gamma, beta), true)
                .singletonOrThrow();
    }

    private synchronized PtSymbolBlock module(int groups, double eps) {
        String key = groups + "/" + eps;
        PtSymbolBlock m = modules.get(key);
        if (m == null) {
            try {
                // The block belongs to the model's manager and is freed with it.
                m = JniUtils.loadModule(
                        (PtNDManager) manager, new ByteArrayInputStream(archive(groups, eps)), true, false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            modules.put(key, m);
        }
        return m;
    }

    /** The TorchScript source of the module's one method: group count and eps are constants in it. */
    static String source(int groups, double eps) {
        if (groups < 1) throw new IllegalArgumentException("GroupNorm needs at least 1 group, got " + groups);
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new IllegalArgumentException("bad GroupNorm eps " + eps);
        // Double.toString is Python-readable ("1.0E-5") and round-trips the exact double.
        return "class GroupNorm(Module):\n"
                + "  __parameters__ = []\n"
                + "  __buffers__ = []\n"
                + "  training : bool\n"
                + "  def forward(self: __torch__.GroupNorm, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:\n"
                + "    return torch.group_norm(x, " + groups + ", weight, bias, " + Double.toString(eps)
                + ", False)\n";
    }

    /** The module's TorchScript archive ({@link TorchScriptArchive}). */
    static byte[] archive(int groups, double eps) {
        return TorchScriptArchive.of("gn", "GroupNorm", source(groups, eps));
    }
}
