package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The memory rules of the float64 output gradient a ghost conv keeps from its norm to its clipped sum (session 9;
 * review of gr9, SHOULD 1; issue 12 §3): kept only beside a kept unfold and only up to {@link
 * Conv2dRule#KEEP_OUT_GRAD_BYTES}, and let go once the clipped sum is taken. The layer: 64 -&gt; 128 channels, a 2x2
 * kernel on a 9x9 input, so T' = 64 and the output gradient [S, 64, 128] is S·64 KiB in float64: 64 slots are the 4 MiB
 * bound exactly (its unfold [S, 64, 256], 8 MiB at 64 slots, is kept). Checked on the Record ({@link Tap#kept} after the
 * norms and after the clipped sum), and through the model: the norms and the drained sum are the same, bit for bit,
 * with the gradient kept or rebuilt ({@code Conv2dRule.keepOutGrad} off).
 */
class KeptOutGradBoundTest {
    private static final int IN = 64;
    private static final int OUT = 128;
    private static final int KERNEL = 2;
    private static final int SIZE = 9;
    private static final int T = (SIZE - KERNEL + 1) * (SIZE - KERNEL + 1);

    @ParameterizedTest(name = "{0} slots, unfold kept up to {1} bytes: output gradient kept {2}")
    @CsvSource({
        "63, 16777216, true", // under KEEP_OUT_GRAD_BYTES
        "64, 16777216, true", // at it
        "65, 16777216, false", // just over
        "16, 0, false" // small, but the unfold is not kept: nothing to pair it with
    })
    void theOutputGradientIsKeptOnlyBesideAKeptUnfoldAndUpToItsBound(int slots, long unfoldBytes, boolean want) {
        assertEquals(slots - 64, ((long) slots * T * OUT * 8 - Conv2dRule.KEEP_OUT_GRAD_BYTES) / (64 * 1024), "bytes");
        long before = Conv2dRule.keepUnfoldBytes;
        Conv2dRule.keepUnfoldBytes = unfoldBytes;
        try {
            boolean[] kept = keptOutGrad(slots);
            assertEquals(want, kept[0], "kept after the norms");
            assertTrue(!kept[1], "still kept after the clipped sum");
        } finally {
            Conv2dRule.keepUnfoldBytes = before;
        }
    }

    /** Kept or rebuilt, the norms and the clipped sum are the same, bit for bit (a float64 model: no cast hides it). */
    @Test
    void keptAndRebuiltGiveTheSameValues() {
        Network net = net();
        int slots = 6;
        DeviceBatch b = TestSupport.batch(net, slots, 1, 77, 1.0, 4);
        double[][] norms = new double[2][];
        double[][] sums = new double[2][(int) net.parameterCount()];
        for (int keep = 0; keep < 2; keep++) {
            Conv2dRule.keepOutGrad = keep == 1;
            try (DjlTrainableModel m = TestSupport.model(
                    net,
                    "bookkeeping",
                    "float64",
                    List.of(),
                    new RuleOptions(RuleOptions.Norm.GHOST, RuleOptions.Unfold.AUTO))) {
                norms[keep] = m.perSampleGradientNorms(b);
                m.accumulateClipped(b, ClipPolicy.flat(0.5 * norms[keep][0]));
                m.drainGradientSum(sums[keep]);
            } finally {
                Conv2dRule.keepOutGrad = true;
            }
        }
        assertEquals(0.0, norms[1][4], 0.0, "padding slot");
        for (int i = 0; i < slots; i++) assertEquals(norms[0][i], norms[1][i], 0.0, "norm " + i);
        boolean any = false;
        for (int i = 0; i < sums[0].length; i++) {
            assertEquals(sums[0][i], sums[1][i], 0.0, "coordinate " + i);
            any |= sums[1][i] != 0;
        }
        assertTrue(any, "the clipped sum is zero");
    }

    private static Network net() {
        return OneConvTap.withHead("kept-out-grad", new Layer.Conv2d("conv", IN, OUT, KERNEL, 1, 0, true, false), SIZE);
    }

    /**
     * One ghost conv in a float32 model, a seeded loss Σ y·r: whether {@link Tap#kept} holds a float64 [S, T', p]
     * output gradient after the norms, and after the clipped sum.
     */
    private static boolean[] keptOutGrad(int slots) {
        ai.djl.ndarray.types.Shape outGrad = new ai.djl.ndarray.types.Shape(slots, T, OUT);
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            Tap tap = OneConvTap.recorded(m, (Layer.Conv2d) net().layers().get(0), SIZE, slots, RuleOptions.Norm.GHOST);
            ClipPolicy policy = ClipPolicy.flat(1.0);
            SlotNorms sn = new SlotNorms(policy, slots);
            boolean[] out = new boolean[2];
            ModelRuntime.withoutGrad(() -> {
                TapScope.run(() -> tap.measure(sn), () -> {
                    List<NDArray> keep = new ArrayList<>(tap.kept());
                    out[0] = holds(keep, outGrad);
                    keep.addAll(sn.live());
                    return keep;
                });
                boolean[] real = new boolean[slots];
                java.util.Arrays.fill(real, true);
                ClipDecision d = ClipDecision.decide(policy, sn, real, new double[slots], slots);
                ClipFactors f = new ClipFactors(m, policy, d);
                TapScope.run(() -> tap.accumulateClipped(f), List::of);
                out[1] = holds(tap.kept(), outGrad);
                return null;
            });
            return out;
        }
    }

    private static boolean holds(List<NDArray> kept, ai.djl.ndarray.types.Shape outGrad) {
        boolean found = false;
        for (NDArray a : kept) {
            if (!a.getShape().equals(outGrad)) continue;
            assertEquals(DataType.FLOAT64, a.getDataType(), "the kept output gradient is the float64 one");
            found = true;
        }
        return found;
    }
}
