package org.dpsgd.djl;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The one long-lived thread that runs a share of the book-keeping taps' work beside the caller
 * ({@link TapPhases}). Process-wide and a daemon: it holds no state between tasks, and models
 * stepping on several threads at once only queue behind each other here. A task that throws, or an
 * Error that kills the thread, completes its {@link Future} exceptionally, and the executor starts a
 * fresh thread for the next task, so a caller waiting on the future never hangs on a dead worker.
 */
final class TapWorker {
    private TapWorker() {}

    private static final ExecutorService POOL = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "dpsgd-tap-worker");
        t.setDaemon(true);
        return t;
    });

    /** Runs {@code task} on the worker thread. */
    static Future<?> submit(Runnable task) {
        return POOL.submit(task);
    }
}
