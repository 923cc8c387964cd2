package org.dpsgd.data;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dpsgd.UserError;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.plan.DeviceCall;

/**
 * Fills a {@link DeviceBatch} for one device call: label, mask 1 and K augmented copies for a real
 * slot; mask 0, label 0, id -1 and all-zero inputs for padding (so stale data can never reach a
 * masked slot). Slots are filled in parallel on a small pool. Each copy's augmentation is seeded
 * from (step, position in the logical batch, copy) by {@link AugmentationSeeds} (a secret key in
 * private runs), so the result does not depend on the layout, the thread count or the order of work.
 */
public final class BatchAssembler implements AutoCloseable {
    private final Dataset data;
    private final Augmenter augmenter;
    private final AugmentationSeeds seeds;
    private final int threads;
    private final ExecutorService pool;
    // Byte-to-float tables of a uint8 dataset (copied: ours alone), else null.
    private final float[][] tables;

    /**
     * Reads from {@code data}, augments per {@code augmentation} seeded from the public {@code seed}
     * ({@link AugmentationSeeds#seeded}), on {@code threads} (> 0) loader threads.
     */
    public BatchAssembler(Dataset data, AugmentationConfig augmentation, long seed, int threads) {
        this(data, augmentation, AugmentationSeeds.seeded(seed), threads);
    }

    /** Reads from {@code data}, augments per {@code augmentation} with {@code seeds}, on {@code threads} (> 0) loader threads. */
    public BatchAssembler(Dataset data, AugmentationConfig augmentation, AugmentationSeeds seeds, int threads) {
        if (threads <= 0) throw new IllegalArgumentException("loader threads must be > 0, got " + threads);
        this.data = data;
        this.augmenter = new Augmenter(augmentation, data.shape());
        this.seeds = java.util.Objects.requireNonNull(seeds, "seeds");
        this.threads = threads;
        float[][] byteTables = data.byteTables();
        this.tables = byteTables == null
                ? null
                : java.util.Arrays.stream(byteTables).map(float[]::clone).toArray(float[][]::new);
        this.pool = threads == 1
                ? null
                : Executors.newFixedThreadPool(threads, r -> {
                    Thread t = new Thread(r, "dpsgd-loader");
                    t.setDaemon(true);
                    return t;
                });
    }

    /** Fills {@code batch} for {@code call} of logical step {@code step}. */
    public void assemble(DeviceCall call, DeviceBatch batch, long step) {
        check(call.slots(), batch);
        int k = batch.multiplicity();
        // All the call's copy seeds at once (one AES call when secret), before the parallel fill.
        long[] copySeeds = augmenter.enabled() ? new long[call.slots() * k] : null;
        if (copySeeds != null) seeds.seeds(step, call.positions(), k, copySeeds);
        runParallel(call.slots(), (from, to) -> {
            Scratch scratch = augmenter.enabled() ? new Scratch(data.shape().size(), tables != null) : null;
            for (int s = from; s < to; s++)
                fillSlot(call.exampleIds()[s], call.positions()[s], s, batch, copySeeds, scratch);
        });
    }

    /** Fills {@code batch} with the given examples (no augmentation; -1 = padding), e.g. for evaluation. */
    public void assemblePlain(int[] exampleIds, DeviceBatch batch) {
        check(exampleIds.length, batch);
        runParallel(exampleIds.length, (from, to) -> {
            for (int s = from; s < to; s++) fillSlot(exampleIds[s], -1, s, batch, null, null);
        });
    }

    private void check(int slots, DeviceBatch batch) {
        if (slots != batch.slots())
            throw new IllegalArgumentException(
                    "call has " + slots + " slots but the device batch has " + batch.slots());
        if (!batch.shape().equals(data.shape())) {
            throw new IllegalArgumentException(
                    "device batch shape " + batch.shape() + " differs from the dataset's " + data.shape());
        }
    }

    /** One loader thread's scratch image: raw bytes where the dataset has them (crop while converting), else floats. */
    private static final class Scratch {
        final float[] floats;
        final byte[] bytes;

        Scratch(int n, boolean asBytes) {
            floats = asBytes ? null : new float[n];
            bytes = asBytes ? new byte[n] : null;
        }
    }

    private void fillSlot(int id, int position, int slot, DeviceBatch batch, long[] copySeeds, Scratch scratch) {
        int k = batch.multiplicity();
        int n = data.shape().size();
        float[] in = batch.inputs();
        int off = batch.inputOffset(slot, 0);
        if (id < 0) {
            java.util.Arrays.fill(in, off, off + k * n, 0f);
            batch.labels()[slot] = 0;
            batch.mask()[slot] = 0f;
            batch.exampleIds()[slot] = -1;
            return;
        }
        batch.labels()[slot] = data.label(id);
        batch.mask()[slot] = 1f;
        batch.exampleIds()[slot] = id;
        if (scratch == null || position < 0) {
            data.read(id, in, off);
            for (int c = 1; c < k; c++) System.arraycopy(in, off, in, off + c * n, n);
            return;
        }
        if (scratch.bytes != null) {
            data.readBytes(id, scratch.bytes);
            for (int c = 0; c < k; c++) {
                SplittableRandom rng = new SplittableRandom(copySeeds[slot * k + c]);
                augmenter.apply(scratch.bytes, tables, in, off + c * n, rng);
            }
            return;
        }
        data.read(id, scratch.floats, 0);
        for (int c = 0; c < k; c++) {
            augmenter.apply(scratch.floats, 0, in, off + c * n, new SplittableRandom(copySeeds[slot * k + c]));
        }
    }

    /** The public-seed copy seed ({@link AugmentationSeeds#seeded}). */
    static long mix(long seed, long step, long position, long copy) {
        long h = seed;
        h = splitmix(h ^ splitmix(step + 0x632BE59BD9B4E019L));
        h = splitmix(h ^ splitmix(position + 0x9E3779B97F4A7C15L));
        return splitmix(h ^ copy);
    }

    private static long splitmix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private interface Range {
        void run(int from, int to);
    }

    private void runParallel(int n, Range work) {
        if (pool == null || n < 2 * threads) {
            work.run(0, n);
            return;
        }
        List<Future<?>> fs = new ArrayList<>(threads);
        for (int t = 0; t < threads; t++) {
            int from = (int) ((long) n * t / threads), to = (int) ((long) n * (t + 1) / threads);
            fs.add(pool.submit(() -> work.run(from, to)));
        }
        try {
            for (Future<?> f : fs) f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while assembling a batch", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) throw re;
            throw new UserError("reading a batch failed: " + c, c);
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
