package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** JTransforms' worker threads must not keep a JVM alive after its program is done (they idle for 60 s). */
class PldFftThreadsTest {
    @Test
    void theFftThreadsAreDaemons() {
        Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
        PldAccountant acc = new PldAccountant();
        acc.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(256.0 / 60000, 1.1), 10_000)); // 2^18-point FFTs
        assertTrue(acc.epsilon(1e-5) > 0);
        Set<Thread> after = Thread.getAllStackTraces().keySet();
        List<Thread> pool =
                after.stream().filter(t -> t.getName().equals("pld-fft")).toList();
        assertTrue(!pool.isEmpty(), "the transform ran on the pool (its idle threads live for 60 s)");
        assertTrue(pool.stream().allMatch(Thread::isDaemon), pool.toString());
        assertEquals(
                List.of(),
                after.stream().filter(t -> !before.contains(t) && !t.isDaemon()).toList(),
                "no new thread that would keep the JVM alive");
    }
}
