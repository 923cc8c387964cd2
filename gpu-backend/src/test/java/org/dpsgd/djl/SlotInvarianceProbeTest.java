package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Map;
import org.dpsgd.UserError;
import org.dpsgd.backend.BackendOptions;
import org.junit.jupiter.api.Test;

/**
 * The backend's probe of the clip bound's slot premise (docs/core.md, "Float margin" item 2). That it sees rows move
 * where MKL is not strict, and none where it is, is {@link MklStrictModeTest}'s child JVMs on MKL's AVX2 path.
 */
class SlotInvarianceProbeTest {
    private static final BackendOptions REQUIRE = new BackendOptions("cpu", Map.of("slot_invariance", "require"));
    private static final BackendOptions RECORD = new BackendOptions("cpu", Map.of("slot_invariance", "record"));

    @Test
    void rowsThatMoveAreRefusedInOneLineNamingTheOptOut() {
        UserError e = assertThrows(
                UserError.class, () -> SlotInvarianceProbe.decide(new SlotInvarianceProbe.Result(3, 88), REQUIRE));
        assertTrue(
                e.getMessage().startsWith("on this machine 3 of 88 probed matrix products change a row's bits"),
                e.getMessage());
        assertTrue(e.getMessage().contains("slot_invariance=record"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void recordOpensAnywayAndSaysSo() {
        SlotInvarianceProbe.Result moved = new SlotInvarianceProbe.Result(3, 88);
        assertSame(moved, SlotInvarianceProbe.decide(moved, RECORD));
        assertTrue(moved.toString().startsWith("ROWS MOVE: 3 of 88"), moved.toString());
        SlotInvarianceProbe.Result held = new SlotInvarianceProbe.Result(0, 88);
        assertSame(held, SlotInvarianceProbe.decide(held, REQUIRE));
    }

    /** Where MKL documents a strict mode (Intel CPUs); elsewhere the backend's probe at open decides, refusing by default. */
    @Test
    void thisMachinesProductsHoldAtOneAndTwoThreads() {
        TestSupport.backend();
        assumeTrue(TestSupport.mklHasStrictMode(), "MKL documents its strict mode for Intel CPUs only");
        int before = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        try {
            for (int threads : new int[] {1, 2}) {
                ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
                SlotInvarianceProbe.Result r = SlotInvarianceProbe.run(ai.djl.Device.cpu());
                assertEquals(88, r.total());
                assertEquals(0, r.moved(), threads + " threads: " + r);
            }
        } finally {
            ai.djl.pytorch.jni.JniUtils.setNumThreads(before);
        }
    }
}
