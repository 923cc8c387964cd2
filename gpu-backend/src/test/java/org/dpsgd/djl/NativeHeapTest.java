package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dpsgd.backend.BackendOptions;
import org.junit.jupiter.api.Test;

/**
 * The allocator setting: refused when malformed, applied by default, and freed blocks are then reused
 * without page faults.
 */
class NativeHeapTest {
    private static final long BLOCK = 2L << 20;
    private static final int BLOCKS = 4;

    @Test
    void badValuesAreRefusedWithTheSettingsName() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> NativeHeap.apply(new BackendOptions("cpu", Map.of("malloc_retain", "yes"))));
        assertTrue(e.getMessage().contains("malloc_retain must be on or off"), e.getMessage());
    }

    @Test
    void anOpenedBackendRetainsFreedMemoryOnGlibc() {
        TestSupport.backend();
        assumeTrue(glibc(), "glibc only");
        assertEquals("retained", NativeHeap.describe());
        assertEquals("retained", TestSupport.backend().versions().get("malloc"));
    }

    /**
     * A step's pattern: several large blocks allocated, written and all freed, again and again. With glibc's
     * defaults the freed blocks coalesce at the heap's top and are trimmed, so every round faults their pages in
     * again (4 x 2 MiB: ~2,000 faults a round); retained, the later rounds reuse them.
     */
    @Test
    void laterRoundsOfTheSameBlocksTouchNoFreshPages() throws IOException {
        TestSupport.backend();
        assumeTrue(glibc() && Files.isReadable(Path.of("/proc/thread-self/stat")), "glibc on Linux only");
        // On a thread of its own: a fresh thread's allocations start in an arena of their own where glibc has one
        // to give, rather than in the middle of what earlier tests left in this thread's arena.
        long[] faults = new long[1];
        onFreshThread(() -> {
            for (int warm = 0; warm < 2; warm++) round();
            long before = minorFaults();
            for (int r = 0; r < 3; r++) round();
            faults[0] = minorFaults() - before;
        });
        long pages = 3L * BLOCKS * BLOCK / 4096;
        // The thread's own faults only (other JVM threads, GC included, fault pages of their own meanwhile);
        // a trimmed heap would fault every page again.
        assertTrue(faults[0] < pages / 4, faults[0] + " minor faults over 3 rounds touching " + pages + " pages");
    }

    /** What the allocator kept goes back to the kernel on request (the bench's per-strategy peak memory). */
    @Test
    void trimHandsTheKeptBlocksBack() throws IOException {
        TestSupport.backend();
        assumeTrue(glibc() && Files.isReadable(Path.of("/proc/self/status")), "glibc on Linux only");
        long[] kb = new long[3];
        // On a fresh thread, as the fault test: the blocks come from one arena, and the trim's free runs on it too.
        onFreshThread(() -> {
            kb[0] = residentKb();
            round(); // written and freed: kept, still resident
            kb[1] = residentKb();
            TestSupport.backend().releaseFreeMemory();
            kb[2] = residentKb();
        });
        // glibc unmaps a non-main arena's extra heap once it is wholly free: then nothing was kept to hand back.
        assumeTrue(kb[1] - kb[0] >= BLOCKS * BLOCK / 1024 / 2, "the allocator did not keep the blocks this time");
        long released = kb[1] - kb[2];
        assertTrue(released >= BLOCKS * BLOCK / 1024 / 2, "resident set fell by only " + released + " KiB");
    }

    private interface Body {
        void run() throws IOException;
    }

    /** Runs {@code body} on a new thread and waits; whatever it throws is thrown here, so it fails the test. */
    private static void onFreshThread(Body body) throws IOException {
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure[0] = e;
            }
        });
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        if (failure[0] instanceof IOException e) throw e;
        if (failure[0] instanceof RuntimeException e) throw e;
        if (failure[0] instanceof Error e) throw e;
        if (failure[0] != null) throw new AssertionError(failure[0]);
    }

    private static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status")))
            if (line.startsWith("VmRSS:"))
                return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
        throw new IllegalStateException("no VmRSS");
    }

    private static void round() {
        long[] peers = new long[BLOCKS];
        for (int b = 0; b < BLOCKS; b++) {
            peers[b] = Native.malloc(BLOCK);
            assertTrue(peers[b] != 0, "malloc failed");
            new Pointer(peers[b]).setMemory(0, BLOCK, (byte) 1);
        }
        for (long p : peers) Native.free(p);
    }

    /** The calling thread's minor page faults (Linux's per-thread stat). */
    private static long minorFaults() throws IOException {
        String st = Files.readString(Path.of("/proc/thread-self/stat"));
        // Fields after "(comm) ": state is field 3, minflt field 10.
        String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[7]);
    }

    private static boolean glibc() {
        try {
            com.sun.jna.NativeLibrary.getInstance("c").getFunction("gnu_get_libc_version");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }
}
