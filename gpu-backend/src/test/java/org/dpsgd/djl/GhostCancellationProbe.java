package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * Measures how close real models come to the cross-slot cap (docs/core.md, "Float margin", item 5
 * (E)): per example, ρ = s/‖G‖ with s = sqrt(Σ_l (γ(rows_l)·M_l)²) over the ghost (unformed) layers
 * and ‖G‖ the whole gradient's norm (flat clipping), and the step bound B* = η'/(2ρ) from which the
 * cap κ·s = 2B·s/η' exceeds ‖G‖ and starts to shrink the example. ρ grows with the call's slots S
 * (γ(rows) ∝ S·T'), so B*·S is what carries over to other call sizes. Not a test (no assertion, it
 * reports numbers): run with {@code java -cp <test classpath> org.dpsgd.djl.GhostCancellationProbe}.
 */
final class GhostCancellationProbe {
    private GhostCancellationProbe() {}

    public static void main(String[] args) throws Exception {
        probe(
                "resnet18-gn (random init, random inputs)",
                ModelSpec.of("resnet18-gn").withStem("cifar"),
                "3x32x32",
                8,
                0);
        probe(
                "resnet18-gn (after 40 SGD steps on the batch)",
                ModelSpec.of("resnet18-gn").withStem("cifar"),
                "3x32x32",
                8,
                40);
        probe("small-cnn (random init, random inputs)", ModelSpec.of("small-cnn"), "1x16x16", 32, 0);
        probe("small-cnn (after 300 SGD steps on the batch)", ModelSpec.of("small-cnn"), "1x16x16", 32, 300);
        probe("fmnist-cnn (after 100 SGD steps on the batch)", ModelSpec.of("fmnist-cnn"), "1x28x28", 32, 100);
    }

    static void probe(String label, ModelSpec spec, String input, int slots, int steps) throws Exception {
        Network net = ModelZoo.build(spec, Shape.parse(input), 10);
        try (DjlTrainableModel m = TestSupport.model(net, "bookkeeping", "float32", List.of())) {
            DeviceBatch b = TestSupport.batch(net, slots, 1, 5, 1.0);
            float[] p = new float[(int) net.parameterCount()];
            float[] g = new float[p.length];
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            for (int t = 0; t < steps; t++) {
                double loss = m.accumulateUnclipped(b).lossSum() / slots;
                if (t == 0) firstLoss = loss;
                lastLoss = loss;
                m.drainGradientSum(g);
                m.readParameters(p);
                for (int i = 0; i < p.length; i++) p[i] -= 0.05f * g[i] / slots;
                m.writeParameters(p);
            }
            if (steps == 0) firstLoss = lastLoss = m.accumulateUnclipped(b).lossSum() / slots;
            m.drainGradientSum(g);
            double[][] r = measure(m, b);
            int n = r[0].length;
            double[] rho = new double[n];
            for (int i = 0; i < n; i++) rho[i] = Math.sqrt(r[1][i]) / Math.sqrt(r[0][i]);
            Arrays.sort(rho);
            double worst = rho[n - 1];
            System.out.printf(
                    "%s: S = %d slots, loss %.3f -> %.3f; rho = s/|G|: median %.3g, max %.3g (log2 %.1f);"
                            + " cap binds from B* = eta'/(2 rho) = %.3g (min over slots), B*·S = %.3g%n",
                    label,
                    slots,
                    firstLoss,
                    lastLoss,
                    rho[n / 2],
                    worst,
                    Math.log(worst) / Math.log(2),
                    ClipBound.CROSS / (2 * worst),
                    ClipBound.CROSS / (2 * worst) * slots);
        }
    }

    /** [0] = ‖G‖² per slot, [1] = sumSlack per slot, from the bookkeeping strategy's own taps. */
    static double[][] measure(DjlTrainableModel m, DeviceBatch b) throws Exception {
        Field f = DjlTrainableModel.class.getDeclaredField("rt");
        f.setAccessible(true);
        ModelRuntime rt = (ModelRuntime) f.get(m);
        rt.checkBatch(b);
        rt.store.freshLeaves(false);
        int slots = b.slots();
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            Tape tape = new Tape(rt.manager, slots, b.multiplicity());
            NDArray mask = rt.mask(b);
            ModelRuntime.withGrad(() -> {
                NDArray logits = rt.lowered.forward(rt.inputs(b, 0, slots), tape);
                NDArray loss = ModelRuntime.perSlotLoss(logits, rt.oneHot(b, 0, slots), slots, b.multiplicity());
                rt.backward(loss.mul(mask).sum());
                return logits;
            });
            return ModelRuntime.withoutGrad(() -> {
                SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), slots);
                for (Tap t : tape.taps()) {
                    TapScope.run(() -> t.measure(sn), () -> {
                        List<NDArray> keep = new ArrayList<>(t.kept());
                        keep.addAll(sn.live());
                        return keep;
                    });
                }
                double[][] slack = sn.sumSlack();
                return new double[][] {sn.squared()[0], slack[0] == null ? new double[slots] : slack[0]};
            });
        }
    }
}
