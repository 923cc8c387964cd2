package org.dpsgd.noise;

import com.sun.jna.Function;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;

/**
 * Moves the calling thread to Linux's {@code SCHED_IDLE} scheduling class: it then runs only where a core
 * would otherwise idle, and a thread of the ordinary class that wakes takes the core back at once. Used
 * by {@link NoisePrefetch#IDLE}. Lowering one's own priority needs no privilege; the call fails only on
 * another OS, a kernel without the class or a C library JNA cannot load.
 */
final class IdlePriority {
    private IdlePriority() {}

    // <sched.h>: SCHED_IDLE = 5 (Linux only).
    private static final int SCHED_IDLE = 5;

    /**
     * Moves the calling thread (pid 0: the caller, a thread on Linux) to {@code SCHED_IDLE}.
     *
     * @return null on success, else why not (for the one-line refusal)
     */
    static String lowerCurrentThread() {
        if (!Platform.isLinux()) return "SCHED_IDLE is Linux's; this is " + System.getProperty("os.name");
        try {
            // int sched_setscheduler(pid_t pid, int policy, const struct sched_param *param), looked up by name
            // (a Java method of that name would break the naming rule); param = { int sched_priority = 0 }.
            Function f = NativeLibrary.getInstance("c").getFunction("sched_setscheduler");
            if (f.invokeInt(new Object[] {0, SCHED_IDLE, new int[] {0}}) == 0) return null;
            return "sched_setscheduler(SCHED_IDLE) failed with errno " + Native.getLastError();
        } catch (LinkageError | RuntimeException e) { // no JNA native part, or no such function
            return "the C library could not be called (" + e.getMessage() + ")";
        }
    }

    // The first reason a thread that works on anyway could not lower its priority (lowerOrRecord); null while none.
    private static final java.util.concurrent.atomic.AtomicReference<String> FAILURE =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * {@link #lowerCurrentThread} for a noise thread, which draws the same values at either class and so works on
     * whatever happens; a failure is kept for {@link #failure}.
     */
    static void lowerOrRecord() {
        String failed = lowerCurrentThread();
        if (failed != null) FAILURE.compareAndSet(null, failed);
    }

    /** Null while every noise thread that tried lowered its priority, else the first failure's reason. */
    static String failure() {
        return FAILURE.get();
    }

    private static volatile Boolean available;

    /** Whether threads can take {@code SCHED_IDLE} here ({@link #probe}, once per JVM). */
    static boolean available() {
        Boolean a = available;
        if (a == null) available = a = probe() == null;
        return a;
    }

    /**
     * Whether a thread can move to {@code SCHED_IDLE} here: tried on a short-lived thread of its own.
     *
     * @return null if it can, else why not
     */
    static String probe() {
        String[] why = {"the probe thread did not finish"};
        Thread t = new Thread(() -> why[0] = lowerCurrentThread(), "dpsgd-idle-probe");
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted while checking SCHED_IDLE";
        }
        return why[0];
    }

    /**
     * The scheduling policy of thread {@code tid} of this process, from {@code /proc/self/task/<tid>/stat} (field
     * 41), or -1 where that cannot be read. For tests and checks.
     */
    static int policyOf(long tid) {
        try {
            String st = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/self/task/" + tid + "/stat"));
            String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[38]); // field 41; fields after the name start at 3
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /** {@code SCHED_IDLE}'s number, for {@link #policyOf} checks. */
    static int schedIdle() {
        return SCHED_IDLE;
    }
}
