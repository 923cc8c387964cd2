package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The non-private baseline's plain-SGD update in place on the parameter tensors, p ← p − lr · S/L,
 * in one native call for all of them (a TorchScript module, {@link TorchScriptArchive}): PyTorch's
 * own {@code SGD.step} is the same in-place pass. Two forms:
 *
 * <ul>
 *   <li>float32 parameters ({@link #fused}): one fused pass, {@code p.add_(S, alpha = −lr/L)}, with
 *       the multiplier rounded to float32 once. The host rounds S/L to float first and then
 *       computes p − lr·g in double, so the two can differ by about one float32 ulp of p per step
 *       (see {@code DeviceSgdTest} for the bound): this is the speed path.
 *   <li>float64 parameters ({@link #exact}): the host's float arithmetic replayed op for op in
 *       float64 with the same roundings to float (the drain's S to float, g = float(S · (1/L)),
 *       p = float(p − lr·g)), so the parameters stay float values and equal the host path's bit for
 *       bit. Extra passes, but float64 models are oracles, not the speed path.
 * </ul>
 */
final class InPlaceSgd {
    private static final String SOURCE = "class InPlaceSgd(Module):\n"
            + "  __parameters__ = []\n"
            + "  __buffers__ = []\n"
            + "  training : bool\n"
            + "  def forward(self: __torch__.InPlaceSgd, params: List[Tensor], sums: List[Tensor], alpha: float) -> int:\n"
            + "    torch._foreach_add_(params, sums, alpha=alpha)\n"
            + "    return 0\n"
            + "  def exact(self: __torch__.InPlaceSgd, params: List[Tensor], sums: List[Tensor], scale: float,"
            + " lr: float) -> int:\n"
            + "    for i in range(len(params)):\n"
            + "      g = torch.mul(sums[i].float().double(), scale).float().double()\n"
            + "      params[i].copy_(torch.sub(params[i], torch.mul(g, lr)).float())\n"
            + "    return 0\n";

    private final PtSymbolBlock module;

    InPlaceSgd(NDManager manager) {
        try {
            // The block belongs to the model's manager and is freed with it.
            this.module = JniUtils.loadModule(
                    (PtNDManager) manager,
                    new ByteArrayInputStream(TorchScriptArchive.of("sgd", "InPlaceSgd", SOURCE)),
                    true,
                    false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Updates every {@code params[i]} from {@code sums[i]} (same shapes; all parameters of one dtype,
     * float32 or float64) for realised batch size {@code realized} and learning rate {@code lr}.
     */
    void step(List<NDArray> params, List<NDArray> sums, int realized, double lr) {
        if (params.isEmpty()) return;
        DataType t = params.get(0).getDataType();
        if (t == DataType.FLOAT32) fused(params, sums, -lr / realized);
        else if (t == DataType.FLOAT64) exact(params, sums, 1.0 / realized, lr);
        else throw new IllegalStateException("in-place SGD supports float32 and float64 parameters, not " + t);
    }

    private void fused(List<NDArray> params, List<NDArray> sums, double alpha) {
        run("forward", list(params), list(sums), IValue.from(alpha));
    }

    private void exact(List<NDArray> params, List<NDArray> sums, double scale, double lr) {
        run("exact", list(params), list(sums), IValue.from(scale), IValue.from(lr));
    }

    private void run(String method, IValue... args) {
        try {
            IValueUtils.runMethod(module, method, args).close();
        } finally {
            for (IValue a : args) a.close();
        }
    }

    private static IValue list(List<NDArray> arrays) {
        return IValue.listFrom(arrays.toArray(new PtNDArray[0]));
    }
}
