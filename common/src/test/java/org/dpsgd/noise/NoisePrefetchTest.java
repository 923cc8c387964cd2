package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The backend setting {@code noise_prefetch} and its idle mode: which mode each value gives on each kind of backend,
 * the one-line refusal of a bad value, and that the threads drawing ahead really run at Linux's idle scheduling class
 * while ordinary noise threads do not. The values of idle-prefetched draws: {@code NoiseThreadsTest}.
 */
class NoisePrefetchTest {
    @ParameterizedTest(name = "{0} on a host-core backend {1} -> {2}")
    @CsvSource({
        "auto, false, ON",
        "off, false, OFF",
        "on, true, ON",
        "idle, true, IDLE",
        "idle, false, IDLE",
        "' Idle ', true, IDLE"
    })
    void theSettingGivesItsMode(String value, boolean hostCores, NoisePrefetch expected) {
        assertEquals(expected, NoisePrefetch.from(Map.of(NoisePrefetch.SETTING, value), hostCores));
    }

    /** auto: ahead where the device computes elsewhere; on the host's cores at idle priority where Linux allows it. */
    @Test
    void withoutTheSettingCpuBackendsDrawAheadAtIdlePriorityWhereTheyCan() {
        assertEquals(NoisePrefetch.ON, NoisePrefetch.from(Map.of(), false));
        NoisePrefetch cpu = NoisePrefetch.from(Map.of(NoisePrefetch.SETTING, "auto"), true);
        assertEquals(IdlePriority.probe() == null ? NoisePrefetch.IDLE : NoisePrefetch.OFF, cpu);
        assertEquals(cpu, NoisePrefetch.from(Map.of(), true));
    }

    @Test
    void idleDrawsAheadOnlyAboveTwoChunks() {
        long two = 2L * ChunkedGaussian.CHUNK;
        assertEquals(false, NoisePrefetch.IDLE.drawsAhead(two));
        assertEquals(true, NoisePrefetch.IDLE.drawsAhead(two + 1));
        assertEquals(true, NoisePrefetch.ON.drawsAhead(1));
        assertEquals(false, NoisePrefetch.OFF.drawsAhead(1L << 30));
    }

    @Test
    void aBadValueIsOneLineNamingTheSettingAndItsValues() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> NoisePrefetch.from(Map.of(NoisePrefetch.SETTING, "soon"), true));
        assertEquals("backend setting noise_prefetch must be auto, off, on or idle, got 'soon'", e.getMessage());
    }

    @Test
    void theModesSourceIsSecureAndIdleOnlyWhenAsked() {
        assumeTrue(IdlePriority.probe() == null, "no SCHED_IDLE here");
        NoiseSource idle = NoiseSources.create(NoiseMode.SECURE, 0, s -> {}, NoisePrefetch.IDLE);
        assertTrue(idle.isSecure());
        List<String> warnings = new ArrayList<>();
        // Seeded noise is never prefetched (its resume state is a call count), idle or not, and still announces itself.
        NoiseSource seeded = NoiseSources.create(NoiseMode.FAST_INSECURE, 3, warnings::add, NoisePrefetch.IDLE);
        assertTrue(seeded instanceof FastInsecureGaussianNoise);
        assertEquals(1, warnings.size());
    }

    /**
     * After draws that used them, every thread named "dpsgd-idle-…" (the idle pool's workers and the idle prefetch
     * thread) is at SCHED_IDLE, and the ordinary pool's workers ("dpsgd-noise-…") are not.
     */
    @Test
    void idleThreadsRunAtTheIdleClassAndOrdinaryOnesDoNot() throws IOException {
        assumeTrue(IdlePriority.probe() == null, "no SCHED_IDLE here");
        int n = 6 * ChunkedGaussian.CHUNK;
        // A 3-thread idle pool draws on its own workers; a 1-thread one on the idle prefetch thread: both made here, so
        // the check does not depend on which test ran before in this JVM.
        NoiseSource idle = SecureGaussianNoise.withKey(new byte[32], true, NoisePool.idle(3));
        NoiseSource idleOne = SecureGaussianNoise.withKey(new byte[32], true, NoisePool.idle(1));
        NoiseSource ordinary = SecureGaussianNoise.withKey(new byte[32], false, NoisePool.of(3));
        for (int call = 0; call < 3; call++) {
            idle.addGaussian(new float[n], 1.0); // calls 1, 2 come from the idle threads
            idleOne.addGaussian(new float[n], 1.0);
            ordinary.addGaussian(new float[n], 1.0);
        }
        idle.awaitPrefetch();
        idleOne.awaitPrefetch();
        Map<String, List<Integer>> policies = policiesByName();
        List<Integer> idleThreads = new ArrayList<>();
        List<Integer> ordinaryThreads = new ArrayList<>();
        policies.forEach((name, ps) -> {
            if (name.startsWith("dpsgd-idle-nois") || name.startsWith("dpsgd-idle-pref")) idleThreads.addAll(ps);
            if (name.startsWith("dpsgd-noise-3-")) ordinaryThreads.addAll(ps);
        });
        assertTrue(policies.containsKey("dpsgd-idle-pref"), "the idle prefetch thread ran: " + policies);
        assertTrue(idleThreads.size() >= 2, "idle threads: " + policies);
        assertTrue(ordinaryThreads.size() >= 1, "ordinary pool threads: " + policies);
        for (int p : idleThreads) assertEquals(IdlePriority.schedIdle(), p, "an idle thread's policy: " + policies);
        for (int p : ordinaryThreads)
            assertEquals(0, p, "an ordinary noise thread's policy (SCHED_OTHER): " + policies);
        assertNull(IdlePriority.failure(), "every idle thread lowered its priority");
    }

    /** Idle mode prepares only draws of more than two chunks; smaller ones are made on the caller when asked for. */
    @Test
    void smallIdleDrawsAreMadeWhenAskedForNotAhead() {
        List<Integer> started = new ArrayList<>();
        NoisePrefetcher p = NoisePrefetcher.idle((n, std, into) -> {
            started.add(n);
            return new SharedDraw(into, n, (c, from, to) -> {});
        });
        int small = NoisePool.CALLER_CHUNKS * ChunkedGaussian.CHUNK;
        int large = small + 1;
        p.prepare(small, 1.0, new double[small]);
        assertEquals(List.of(), started, "a small draw is not prepared");
        p.prepare(large, 1.0, new double[large]);
        assertEquals(List.of(large), started, "a large one is");
        assertEquals(small, p.take(small, 1.0).length);
        assertEquals(List.of(large, small), started, "the small draw is made when asked for");
        assertEquals(large, p.take(large, 1.0).length);
        assertEquals(List.of(large, small), started, "the large one was the prepared draw");
    }

    /** A second prepare of the same shape drops the first (never served), so one buffer never has two live draws. */
    @Test
    void aReplacedDrawIsDroppedNotServed() {
        List<SharedDraw> started = new ArrayList<>();
        NoisePrefetcher p = NoisePrefetcher.idle((n, std, into) -> {
            SharedDraw d =
                    new SharedDraw(into, n, (c, from, to) -> java.util.Arrays.fill(into, from, to, started.size()));
            started.add(d);
            return d;
        });
        int n = 3 * ChunkedGaussian.CHUNK;
        p.prepare(n, 1.0, new double[n]);
        p.prepare(n, 1.0, new double[n]);
        assertThrows(IllegalStateException.class, started.get(0)::get, "the replaced draw is never served");
        assertEquals(2.0, p.take(n, 1.0)[0], "the later one is");
    }

    /** openDraw with an empty piece after the last: the served buffer is prepared once, not twice. */
    @Test
    void anEmptyPieceAfterTheLastDoesNotPrepareTheBufferAgain() {
        assumeTrue(IdlePriority.probe() == null, "no SCHED_IDLE here");
        SecureGaussianNoise noise = SecureGaussianNoise.withKey(new byte[32], true, NoisePool.idle(2));
        int n = 3 * ChunkedGaussian.CHUNK;
        GaussianDraw d = noise.openDraw(n, 1.0); // call 0
        double[] v = new double[n];
        d.addTo(v, 0, 0, n); // prepares call 1
        d.addTo(v, 0, n, 0); // an empty piece: must not prepare call 2 into the same buffer
        noise.awaitPrefetch();
        double[] next = new double[n];
        noise.openDraw(n, 1.0).addTo(next, 0, 0, n); // served: call 1, filled by one draw only
        double[] reference = ReferenceNormals.addSecureNoise(new byte[32], new double[n], 0, n, 1.0, 1);
        assertArrayEquals(reference, next);
    }

    @Test
    void theCallingThreadIsNotMoved() {
        assumeTrue(IdlePriority.probe() == null, "no SCHED_IDLE here");
        // The probe moved a thread of its own; this one (like a trainer's) is still at SCHED_OTHER.
        assertEquals(0, IdlePriority.policyOf(currentTid()));
    }

    private static long currentTid() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/thread-self")).toString();
            return Long.parseLong(link.substring(link.lastIndexOf('/') + 1));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Each thread of this process by its (15-character) Linux name: the scheduling policies of those so named. */
    private static Map<String, List<Integer>> policiesByName() throws IOException {
        Map<String, List<Integer>> out = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                String name;
                try {
                    name = Files.readString(t.resolve("comm")).trim();
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                int policy =
                        IdlePriority.policyOf(Long.parseLong(t.getFileName().toString()));
                if (policy >= 0)
                    out.computeIfAbsent(name, k -> new ArrayList<>()).add(policy);
            }
        }
        return out;
    }
}
