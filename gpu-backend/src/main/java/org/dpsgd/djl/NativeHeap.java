package org.dpsgd.djl;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.dpsgd.backend.BackendOptions;

/**
 * Keeps the CPU tensors' memory in the process between steps (glibc's {@code mallopt}). A step allocates
 * and frees the same large tensors every time (activations, output gradients, unfolds: megabytes each).
 * glibc's defaults hand such blocks back to the kernel when they are freed (mmap above a threshold that
 * grows only up to 32 MiB and only as blocks are freed; a heap trimmed above 128 KiB free at its top),
 * so the next step touches fresh pages again: measured here about 3,000 minor page faults per small-cnn
 * step of batch 64 (12 MB), each a kernel entry plus a 4 KiB zero fill, on the thread that then makes
 * the other OpenMP thread wait. With the mmap threshold and the trim threshold raised, freed blocks stay
 * in the allocator and are reused by the next step: the faults drop to a few hundred. The process keeps
 * its high-water mark of tensor memory (it reaches it every step anyway); its peak does not rise.
 * Values are untouched: this changes where memory comes from, never what is computed. Not a guarantee:
 * glibc still unmaps a per-thread arena's extra heap (past its first 64 MiB one) once it is entirely free,
 * so a thread whose arena is crowded can still fault some blocks in again (seen once in the shared test JVM).
 * Measured in the bench's step, faults fall from ~3,250 to ~150 per small-cnn step.
 *
 * <p>Backend setting {@code malloc_retain} = {@code on} (default) or {@code off} (glibc's defaults).
 * Without glibc (another C library or OS) nothing is applied and {@link #describe()} says so.
 */
final class NativeHeap {
    private NativeHeap() {}

    // glibc's malloc.h parameter numbers.
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;

    /**
     * Blocks up to this size come from the heap and are kept there when freed (glibc caps the value at
     * HEAP_MAX_SIZE / 2 = 32 MiB on 64-bit for its per-thread arenas, which the JNI threads use; larger
     * blocks are still mapped and unmapped per use).
     */
    static final int MMAP_THRESHOLD = 32 << 20;

    /** Free memory at a heap's top up to this size is kept rather than returned to the kernel. */
    static final int TRIM_THRESHOLD = 1 << 30;

    interface LibC extends Library {
        int mallopt(int param, int value);
    }

    private static volatile String applied; // null until the first backend of the process decides

    /**
     * Applies the {@code malloc_retain} setting (on by default). The allocator is the process's: the first
     * backend opened decides, later ones keep what it chose.
     */
    static synchronized void apply(BackendOptions options) {
        String s = options.setting("malloc_retain", "on").trim().toLowerCase(java.util.Locale.ROOT);
        if (!s.equals("on") && !s.equals("off"))
            throw new IllegalArgumentException("backend setting malloc_retain must be on or off, got '" + s + "'");
        if (applied != null) return;
        applied = s.equals("off") ? "default (malloc_retain=off)" : retain();
    }

    private static String retain() {
        try {
            LibC libc = Native.load("c", LibC.class);
            // mallopt returns 1 on success, 0 on a value glibc refuses.
            boolean ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                    && libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1;
            return ok ? "retained" : "default (mallopt refused)";
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            // Not glibc: a speed setting only, nothing about the computed values depends on it.
            return "default (no mallopt)";
        }
    }

    /**
     * Returns the free memory the allocator kept to the kernel: for peak-memory measurements of one model
     * after another in the same process, which would otherwise start from the earlier model's retained
     * pages. glibc's {@code malloc_trim(0)} releases free pages inside its bins, but not a per-thread
     * arena's free top, where a step's freed tensors coalesce; that is trimmed by a free next to it while
     * the trim threshold is 0, so a small block is allocated and freed on the calling thread (the thread
     * that ran the model, whose arena holds its tensors) in between. Nothing where no mallopt was applied.
     */
    static synchronized void trim() {
        if (!"retained".equals(applied)) return;
        LibC libc = Native.load("c", LibC.class);
        libc.mallopt(M_TRIM_THRESHOLD, 0);
        try {
            long block = Native.malloc(TRIM_PROBE);
            if (block != 0) Native.free(block);
            // malloc_trim(size_t pad), looked up by name (the Java method name would break the naming rule).
            com.sun.jna.NativeLibrary.getInstance("c")
                    .getFunction("malloc_trim")
                    .invokeInt(new Object[] {0L});
        } finally {
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }

    /** Big enough that its free consolidates with the arena's top at once (not a fastbin block). */
    private static final long TRIM_PROBE = 256 << 10;

    /** What is in force, for run provenance: "retained", or "default" with the reason when not applied. */
    static String describe() {
        return applied == null ? "default" : applied;
    }
}
