package org.dpsgd.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real binding under a real launcher: {@code mpirun -np 2} over loopback runs {@link MpiProbe}, which
 * checks every collective's result; a rank that throws aborts the job with one line naming it. Skipped,
 * with the reason, where mpirun is missing or the binding was not built (no mpi.h at build time).
 */
class MpiBindingTest {
    @BeforeAll
    static void needsMpi() {
        assumeTrue(
                mpirun() != null,
                "mpirun not on PATH: MPI integration skipped (Debian: apt-get install openmpi-bin libopenmpi-dev)");
        assumeTrue(
                Mpi.availability().isEmpty(),
                () -> "MPI binding not built: " + Mpi.availability().orElse(""));
    }

    static String mpirun() {
        String path = System.getenv("PATH");
        if (path == null) return null;
        return Arrays.stream(path.split(File.pathSeparator))
                .map(d -> Path.of(d, "mpirun"))
                .filter(Files::isExecutable)
                .map(Path::toString)
                .findFirst()
                .orElse(null);
    }

    /** mpirun's flags for a small loopback job: more ranks than cores, root in containers/CI. */
    static List<String> launcher(int ranks) {
        List<String> cmd = new ArrayList<>(List.of(mpirun(), "-np", String.valueOf(ranks), "--oversubscribe"));
        if ("root".equals(System.getProperty("user.name"))) cmd.add("--allow-run-as-root");
        return cmd;
    }

    record Outcome(int code, String output) {}

    static Outcome run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("mpirun did not finish: " + out);
        }
        return new Outcome(p.exitValue(), out);
    }

    private static List<String> probe(String... args) {
        List<String> cmd = launcher(2);
        cmd.addAll(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                MpiProbe.class.getName()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    @Test
    void everyCollectiveGivesTheRightResultOnTwoRanks() throws Exception {
        Outcome o = run(probe());
        assertEquals(0, o.code, o.output);
        assertTrue(o.output.contains("rank 0 of 2 ok") && o.output.contains("rank 1 of 2 ok"), o.output);
    }

    @Test
    void aRankThatThrowsEndsTheJobWithOneLineNamingIt() throws Exception {
        Outcome o = run(probe("fail-on-1"));
        assertEquals(RankFailure.EXIT_CODE, o.code, o.output);
        assertTrue(
                o.output.contains("error: rank 1 of 2 failed: probe failure on purpose; stopping all ranks"), o.output);
    }

    @Test
    void aKilledRankEndsTheJobInsteadOfLeavingRankZeroWaiting() throws Exception {
        Outcome o = run(probe("kill-1")); // run() fails the test if mpirun has not ended within its guard
        assertTrue(o.code != 0, o.output);
        assertTrue(o.output.contains("rank 1"), "Open MPI names the dead rank: " + o.output);
        assertTrue(!o.output.contains("rank 0 of 2 ok"), o.output);
    }
}
