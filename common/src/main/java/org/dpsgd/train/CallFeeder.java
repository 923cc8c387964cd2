package org.dpsgd.train;

import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dpsgd.UserError;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.data.BatchAssembler;
import org.dpsgd.model.Shape;
import org.dpsgd.plan.DeviceCall;

/**
 * Hands the backend the device batches of one step's calls, in order. Without prefetch each call
 * is assembled just before it runs; with prefetch, call k+1 is assembled on a background thread
 * into a second buffer while call k computes, so an accelerator does not idle during assembly.
 * Either way every call gets exactly the batch the planner made for it: the order of sampling,
 * masking and accumulation is unchanged (tested bit for bit against the plain path).
 *
 * <p>It also counts the time the backend waits for data: the whole assembly of each call without
 * prefetch, and with it the wait for the background assembly to finish (always the whole of a
 * step's first call, since a step's calls are known only when it starts). {@code dpsgd bench
 * --data-only} reports it.
 */
public final class CallFeeder implements AutoCloseable {
    private final BatchAssembler assembler;
    private final DeviceBatch[] buffers;
    private final ExecutorService background;
    private long waitNanos;

    /**
     * Feeds batches of {@code slots} slots of {@code multiplicity} copies of {@code shape} inputs,
     * assembled by {@code assembler}; with {@code prefetch}, call k+1 is assembled while call k computes.
     */
    public CallFeeder(BatchAssembler assembler, Shape shape, int slots, int multiplicity, boolean prefetch) {
        this.assembler = assembler;
        this.buffers = new DeviceBatch[prefetch ? 2 : 1];
        for (int i = 0; i < buffers.length; i++) buffers[i] = new DeviceBatch(shape, slots, multiplicity);
        this.background = prefetch
                ? Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, "dpsgd-feeder");
                    t.setDaemon(true);
                    return t;
                })
                : null;
    }

    /** What the backend does with one call's batch. */
    public interface CallConsumer {
        /** Computes on {@code batch}, which is valid only until this returns. */
        void accept(DeviceBatch batch);
    }

    /** Nanoseconds the caller has spent waiting for batches to be assembled, over all calls fed so far. */
    public long waitNanos() {
        return waitNanos;
    }

    /** Assembles each of {@code calls} of logical step {@code step} and passes it to {@code compute}, in order. */
    public void feed(List<DeviceCall> calls, long step, CallConsumer compute) {
        if (background == null) {
            for (DeviceCall call : calls) {
                long t0 = System.nanoTime();
                assembler.assemble(call, buffers[0], step);
                waitNanos += System.nanoTime() - t0;
                compute.accept(buffers[0]);
            }
            return;
        }
        Future<?> next =
                calls.isEmpty() ? null : background.submit(() -> assembler.assemble(calls.get(0), buffers[0], step));
        try {
            for (int k = 0; k < calls.size(); k++) {
                long t0 = System.nanoTime();
                await(next);
                waitNanos += System.nanoTime() - t0;
                DeviceBatch ready = buffers[k % 2];
                int following = k + 1;
                next = following < calls.size()
                        ? background.submit(
                                () -> assembler.assemble(calls.get(following), buffers[following % 2], step))
                        : null;
                compute.accept(ready);
            }
        } finally {
            // On failure, the background assembly must finish before its buffer is reused.
            if (next != null) {
                try {
                    next.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (ExecutionException ignored) {
                    // already failing; the first error is the one reported
                }
            }
        }
    }

    private static void await(Future<?> f) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while assembling a device batch", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new UserError("assembling a device batch failed: " + e.getCause(), e.getCause());
        }
    }

    /** Stops the background assembler thread, if any. */
    @Override
    public void close() {
        if (background != null) background.shutdownNow();
    }
}
