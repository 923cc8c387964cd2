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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The size bounds on the float64 copy a formed layer keeps from its norm to its clipped sum (review of r18x8, S6;
 * issue 12 §3): a layer {@code MIXED} forms for speed keeps it up to {@link Conv2dRule#FORMED_FOR_SPEED_BYTES}, any
 * other formed layer up to {@link Conv2dRule#KEEP_WIDE_BYTES}; above, it keeps the float32 gradient and casts it again.
 * The layer: 128 -&gt; 128 channels, a 2x2 kernel on a 9x9 input (T' = 64, p·d = 128·512), whose float64 gradient is
 * S·p·d·8 = S·512 KiB, so 48 slots are the 24 MiB bound exactly, 32 slots the 16 MiB one. Checked on the Record (what
 * {@link Tap#kept} holds after the norms: the float64 [S, p, d], the float32 one, or no formed gradient where the
 * layer takes the ghost norm) and through the model: the norms and the drained clipped sum are the same, bit for bit,
 * whether the copy is kept or cast again ({@code Conv2dRule.keepSpeedFormedWide} off), in a float32 model.
 */
class FormedWideBoundTest {
    private static final int IN = 128;
    private static final int OUT = 128;
    private static final int KERNEL = 2;
    private static final int SIZE = 9;

    /** What the layer holds after its norms. */
    enum Kept {
        FLOAT64,
        FLOAT32,
        NONE
    }

    @ParameterizedTest(name = "{0} slots, {1}: {2}")
    @CsvSource({
        "47, MIXED, FLOAT64", // just under FORMED_FOR_SPEED_BYTES: formed for speed, float64 kept
        "48, MIXED, FLOAT64", // at it
        "49, MIXED, NONE", // just over: not formed for speed at all (the ghost norm)
        "31, EXPLICIT, FLOAT64", // under KEEP_WIDE_BYTES (the one-call formation)
        "32, EXPLICIT, FLOAT64", // at it
        "33, EXPLICIT, FLOAT32", // just over: the float32 gradient, cast again for the sum
        "48, EXPLICIT, FLOAT32" // a 24 MiB layer that is not formed for speed keeps float32
    })
    void theLayerKeepsItsFloat64CopyUpToItsBound(int slots, RuleOptions.Norm norm, Kept want) {
        long bytes = (long) slots * OUT * IN * KERNEL * KERNEL * 8;
        long bound = norm == RuleOptions.Norm.MIXED ? Conv2dRule.FORMED_FOR_SPEED_BYTES : Conv2dRule.KEEP_WIDE_BYTES;
        assertEquals(slots - 48 + (norm == RuleOptions.Norm.MIXED ? 0 : 16), (bytes - bound) / (512 * 1024), "bytes");
        assertEquals(want, keptAfterNorms(slots, norm));
    }

    /** The norms and the clipped sum with the float64 copy kept equal those with it cast again, bit for bit. */
    @ParameterizedTest(name = "{0} slots")
    @CsvSource({"47", "48"})
    void keptAndCastAgainGiveTheSameValues(int slots) {
        Network net = net();
        DeviceBatch b = TestSupport.batch(net, slots, 1, 500 + slots, 1.0, 3);
        double[][] norms = new double[2][];
        float[][] sums = new float[2][(int) net.parameterCount()];
        for (int keep = 0; keep < 2; keep++) {
            Conv2dRule.keepSpeedFormedWide = keep == 1;
            try (DjlTrainableModel m = TestSupport.model(
                    net,
                    "bookkeeping",
                    "float32",
                    List.of(),
                    new RuleOptions(RuleOptions.Norm.MIXED, RuleOptions.Unfold.AUTO))) {
                norms[keep] = m.perSampleGradientNorms(b);
                m.accumulateClipped(b, ClipPolicy.flat(0.5 * norms[keep][0]));
                m.drainGradientSum(sums[keep]);
            } finally {
                Conv2dRule.keepSpeedFormedWide = true;
            }
        }
        assertEquals(0.0, norms[1][3], 0.0, "padding slot");
        for (int i = 0; i < slots; i++) assertEquals(norms[0][i], norms[1][i], 0.0, "norm " + i);
        boolean any = false;
        for (int i = 0; i < sums[0].length; i++) {
            assertEquals(sums[0][i], sums[1][i], 0f, "coordinate " + i);
            any |= sums[1][i] != 0f;
        }
        assertTrue(any, "the clipped sum is zero");
    }

    private static Network net() {
        return OneConvTap.withHead("formed-bound", new Layer.Conv2d("conv", IN, OUT, KERNEL, 1, 0, true, false), SIZE);
    }

    /** One conv in a float32 model, {@code AUTO}'s unfold choices, a seeded loss Σ y·r: the Record's kept tensors. */
    private static Kept keptAfterNorms(int slots, RuleOptions.Norm norm) {
        try (NDManager m = NDManager.newBaseManager(Device.cpu());
                NDScope step = new NDScope()) {
            step.suppressNotUsedWarning();
            Tap tap = OneConvTap.recorded(m, (Layer.Conv2d) net().layers().get(0), SIZE, slots, norm);
            SlotNorms sn = new SlotNorms(ClipPolicy.flat(1.0), slots);
            List<NDArray> kept = new ArrayList<>();
            ModelRuntime.withoutGrad(() -> {
                TapScope.run(() -> tap.measure(sn), () -> {
                    kept.addAll(tap.kept());
                    List<NDArray> keep = new ArrayList<>(kept);
                    keep.addAll(sn.live());
                    return keep;
                });
                return null;
            });
            ai.djl.ndarray.types.Shape formed = new ai.djl.ndarray.types.Shape(slots, OUT, (long) IN * KERNEL * KERNEL);
            Kept out = Kept.NONE;
            for (NDArray a : kept) {
                if (!a.getShape().equals(formed)) continue;
                assertEquals(Kept.NONE, out, "one formed gradient");
                out = a.getDataType() == DataType.FLOAT64 ? Kept.FLOAT64 : Kept.FLOAT32;
            }
            return out;
        }
    }
}
