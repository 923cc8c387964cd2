package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.dpsgd.UserError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MKL's strict reproducibility mode, on which "a row of a matrix product does not depend on its slot" rests
 * (docs/core.md, "Float margin" item 2). MKL takes its native code path on this machine, whose rows happened to
 * be slot-invariant; MKL_ENABLE_INSTRUCTIONS=AVX2 in a child JVM gives the AVX2 path of other machines, where they
 * are not unless the mode is strict.
 */
class MklStrictModeTest {
    @Test
    void anUnsetVariableGetsTheStrictDefaultAndAStrictOneIsKept() {
        assertEquals("AUTO,STRICT", MklStrictMode.toApply(null));
        assertEquals("AUTO,STRICT", MklStrictMode.toApply(" "));
        assertNull(MklStrictMode.toApply("AVX2,STRICT"));
        assertEquals("AUTO,STRICT", MklStrictMode.toApply("auto, strict")); // rewritten in MKL's spelling
    }

    @ParameterizedTest
    @ValueSource(strings = {"AVX2", "AUTO", "COMPATIBLE", "AVX512,STRICTER"})
    void aModeWithoutStrictIsRefusedInOneLineNamingTheFix(String env) {
        UserError e = assertThrows(UserError.class, () -> MklStrictMode.toApply(env));
        assertTrue(e.getMessage().contains("MKL_CBWR=" + env + ",STRICT"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    /** Intel documents strict mode for the AVX2 and AVX-512 branches only; on others MKL would run non-strict. */
    @ParameterizedTest
    @ValueSource(strings = {"COMPATIBLE,STRICT", "SSE4_2,STRICT", "AVX,STRICT", "STRICT", "AVX2,AVX512,STRICT"})
    void aStrictModeOnABranchWithoutOneIsRefused(String env) {
        UserError e = assertThrows(UserError.class, () -> MklStrictMode.toApply(env));
        assertTrue(e.getMessage().contains("use MKL_CBWR=AUTO,STRICT"), e.getMessage());
    }

    /** What MKL reports is checked, error codes (negative: their strict bit is set too) and off modes included. */
    @ParameterizedTest
    @ValueSource(ints = {-1, -2, -4, 0, 0x1, 0x2, 0xa, 0x10000, 0x10001, 0x30002})
    void aReportedModeThatIsNotStrictIsRefused(int mode) {
        UserError e = assertThrows(UserError.class, () -> MklStrictMode.check(mode, 12));
        assertTrue(e.getMessage().contains("start the JVM with MKL_CBWR=AUTO,STRICT"), e.getMessage());
    }

    @Test
    void aStrictModeIsRecordedWithTheBranchAutoResolvesTo() {
        assertEquals("AUTO,STRICT (mode 0x10002, AUTO is AVX512 on this CPU)", MklStrictMode.check(0x10002, 12));
        assertEquals("AVX2,STRICT (mode 0x1000a)", MklStrictMode.check(0x1000a, 10));
        assertTrue(MklStrictMode.check(null, -1).startsWith("no MKL mode readable"));
    }

    @Test
    void theBackendRunsMklInStrictModeAndRecordsIt() {
        TestSupport.backend();
        int mode = MklStrictMode.mode();
        assumeTrue(mode != -1, "this libtorch has no MKL");
        assertEquals(MklStrictMode.CBWR_AUTO | MklStrictMode.CBWR_STRICT, mode, Integer.toHexString(mode));
        String recorded = TestSupport.backend().versions().get("mkl_cbwr");
        assertTrue(recorded.startsWith("AUTO,STRICT (mode 0x10002"), recorded);
        String probe = TestSupport.backend().versions().get("slot_invariance");
        assumeTrue(TestSupport.mklHasStrictMode(), "MKL documents its strict mode for Intel CPUs only: " + probe);
        assertEquals("rows unchanged in another position in all 88 probed products", probe);
    }

    /**
     * From a clean environment on MKL's AVX2 path: the backend sets strict mode itself (AUTO, which resolves to AVX2
     * under the cap), and no row, norm or probed product moves.
     */
    @Test
    void onTheAvx2PathTheBackendKeepsEveryRowAndNormWhereverItSits() throws Exception {
        List<String> out = avx2Child("backend", null);
        assertTrue(out.contains("mkl AUTO,STRICT (mode 0x10002, AUTO is AVX2 on this CPU)"), String.join("\n", out));
        assertNothingMoves(out);
    }

    /** The same with the AVX2 branch named: this child differs from the control below only by STRICT. */
    @Test
    void withAvx2StrictNamedNothingMovesEither() throws Exception {
        List<String> out = avx2Child("backend", "AVX2,STRICT");
        assertTrue(out.contains("mode 0x1000a"), String.join("\n", out));
        assertNothingMoves(out);
    }

    private static void assertNothingMoves(List<String> out) {
        assertTrue(out.contains("rows differing 0 of 144"), String.join("\n", out));
        assertTrue(out.contains("norms differing 0 of 28"), String.join("\n", out));
        assertTrue(
                out.contains("probe rows unchanged in another position in all 88 probed products"),
                String.join("\n", out));
    }

    /** The control: the same probes, with MKL on AVX2 and not strict, see rows and norms move (so they can fail). */
    @Test
    void withoutStrictModeTheAvx2PathMovesRowsAndNorms() throws Exception {
        List<String> out = avx2Child("raw", "AVX2");
        assertTrue(out.contains("mode 0xa"), String.join("\n", out)); // the AVX2 branch, not strict
        String all = String.join("\n", out);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("rows differing ")), all);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("norms differing ")), all);
        assertFalse(out.contains("rows differing 0 of 144"), all);
        assertFalse(out.contains("norms differing 0 of 28"), all);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("probe ROWS MOVE: ")), all); // the backend's probe sees it
    }

    /** MKL already computing, non-strict, when the backend opens: too late to set, so refused. */
    @Test
    void aBackendOpenedAfterMklStartedNonStrictIsRefused() throws Exception {
        List<String> out = child("late", null);
        assumeTrue(!out.contains("mode none"), "this libtorch has no MKL");
        assertTrue(
                out.stream().anyMatch(l -> l.startsWith("refused: MKL does not hold a strict reproducibility mode")),
                String.join("\n", out));
    }

    @Test
    void theBackendRefusesANonStrictModeFromTheEnvironment() throws Exception {
        List<String> out = child("backend", "AVX2");
        assertTrue(
                out.stream().anyMatch(l -> l.startsWith("refused: MKL_CBWR=AVX2 lets a row")), String.join("\n", out));
    }

    /** A child on MKL's AVX2 path, where that path and strict mode are Intel's (skipped elsewhere, and without MKL). */
    private static List<String> avx2Child(String mode, String cbwr) throws IOException, InterruptedException {
        assumeTrue(
                TestSupport.mklHasStrictMode(),
                "MKL's AVX2 cap and strict mode are Intel's: this test is for Intel CPUs");
        List<String> out = child(mode, cbwr);
        assumeTrue(!out.contains("mode none"), "this libtorch has no MKL");
        return out;
    }

    private static List<String> child(String mode, String cbwr) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=2",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=error",
                RowProbe.class.getName(),
                mode);
        Map<String, String> env = pb.environment();
        env.remove("MKL_CBWR");
        env.remove(org.dpsgd.train.SlotInvarianceCheck.ENV); // the default, require, in the child
        if (cbwr != null) env.put("MKL_CBWR", cbwr);
        env.put("MKL_ENABLE_INSTRUCTIONS", "AVX2");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), text);
        return text.lines().toList();
    }
}
