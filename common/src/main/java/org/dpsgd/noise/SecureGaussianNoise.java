package org.dpsgd.noise;

import java.util.concurrent.ConcurrentLinkedQueue;
import org.dpsgd.sampling.AesCtrStream;
import org.dpsgd.sampling.SecureRandomSource;

/**
 * The default noise. Uniform bits come from AES-256-CTR (NIST CTR_DRBG's generator, run on the
 * CPU's AES instructions) keyed with 32 bytes from the JDK DRBG; chunk c of call t reads its own
 * stream (stream id = t·2^32 + c), so parallel chunks never share keystream.
 * Standard normals are this package's own 1,024-slot ziggurat in double precision (1,021
 * rectangles plus 3 residual slots; tables correctly rounded from a 70-digit construction, total
 * variation from the normal below 1.5e-16; {@link ZigguratBlock}, {@link ZigguratTables}), one 64-bit keystream word per normal in the
 * common case, read from the keystream in blocks; each
 * coordinate gets (z1 + z2 + z3 + z4) / 2, which is N(0, 1), as Opacus' secure mode does following
 * Holohan & Braghin (2021): summing several normals smooths the floating-point artefacts of a
 * single draw that Mironov-style attacks exploit. The noise is added in double and, on a float vector, rounded to
 * float once; on a double vector it stays unrounded (the same draws). The key has no accessor and is never serialised.
 *
 * <p>Chunks are drawn on a {@link NoisePool} of a chosen size (default: all cores); the values do
 * not depend on it. {@link #createWithPrefetch()} prepares the next draw on a background thread
 * ({@link NoisePrefetcher}): noise does not depend on the data, so it can be drawn while an
 * accelerator computes gradients.
 */
public final class SecureGaussianNoise extends ChunkedGaussian {
    private final byte[] key;
    private final NoisePrefetcher prefetcher;
    private final NoisePool pool;
    // Samplers not in use; at most one per thread that has drawn at once.
    private final ConcurrentLinkedQueue<ZigguratBlock> spare = new ConcurrentLinkedQueue<>();
    // The ziggurat fast path: SamplerPath's choice for this JVM, or a test's; null = scalar loop.
    private final FastPathProducts kernel;

    private SecureGaussianNoise(byte[] key, boolean prefetch, NoisePool pool) {
        this(key, prefetch, pool, SamplerPath.kernel());
    }

    private SecureGaussianNoise(byte[] key, boolean prefetch, NoisePool pool, FastPathProducts kernel) {
        super(pool);
        this.key = key;
        this.kernel = kernel;
        this.pool = pool;
        // An idle pool draws ahead as a SharedDraw on its idle threads, which the caller helps to finish.
        this.prefetcher =
                !prefetch ? null : pool.idle() ? NoisePrefetcher.idle(this::shared) : new NoisePrefetcher(this::draw);
    }

    /** A fresh DRBG key; every draw is made when it is asked for, on all cores. */
    public static SecureGaussianNoise create() {
        return create(NoisePool.allCores());
    }

    /** A fresh DRBG key; every draw is made when it is asked for, on {@code pool}'s threads. */
    public static SecureGaussianNoise create(NoisePool pool) {
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes(), false, pool);
    }

    /** As {@link #create()}, but after each draw the next one of the same length and std is prepared in the background. */
    public static SecureGaussianNoise createWithPrefetch() {
        return createWithPrefetch(NoisePool.allCores());
    }

    /** As {@link #create(NoisePool)}, but after each draw the next one of the same length and std is prepared in the background. */
    public static SecureGaussianNoise createWithPrefetch(NoisePool pool) {
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes(), true, pool);
    }

    /**
     * As {@link #createWithPrefetch(NoisePool)}, on threads at Linux's idle scheduling class ({@link
     * NoisePrefetch#IDLE}): {@code threads} pool threads and the prefetch thread. Checks first that a thread can
     * move to that class.
     *
     * @throws IllegalArgumentException naming the backend setting, when this OS or kernel cannot
     */
    public static SecureGaussianNoise createWithIdlePrefetch(int threads) {
        String why = IdlePriority.probe();
        if (why != null)
            throw new IllegalArgumentException("backend setting " + NoisePrefetch.SETTING
                    + "=idle cannot be used here: " + why + "; use " + NoisePrefetch.SETTING + "=auto");
        return new SecureGaussianNoise(SecureRandomSource.freshKeyBytes(), true, NoisePool.idle(threads));
    }

    /** Tests only: a known key, so that draws can be compared bit for bit across pools and with prefetch. */
    static SecureGaussianNoise withKey(byte[] key, boolean prefetch, NoisePool pool) {
        return new SecureGaussianNoise(key.clone(), prefetch, pool);
    }

    /** Tests only: a known key on a given fast path (null = the scalar loop), to compare the paths bit for bit. */
    static SecureGaussianNoise withKey(byte[] key, boolean prefetch, NoisePool pool, FastPathProducts kernel) {
        return new SecureGaussianNoise(key.clone(), prefetch, pool, kernel);
    }

    static SecureGaussianNoise withKey(byte[] key, boolean prefetch) {
        return withKey(key, prefetch, NoisePool.allCores());
    }

    @Override
    public void addGaussian(float[] v, int from, int to, double std) {
        if (prefetcher == null) {
            super.addGaussian(v, from, to, std);
            return;
        }
        checkArguments(v.length, from, to, std);
        int n = to - from;
        double[] noise = prefetcher.take(n, std);
        for (int i = from; i < to; i++) v[i] = (float) (v[i] + noise[i - from]);
        prefetcher.prepare(n, std, noise);
    }

    @Override
    public void addGaussian(double[] v, int from, int to, double std) {
        if (prefetcher == null) {
            super.addGaussian(v, from, to, std);
            return;
        }
        checkArguments(v.length, from, to, std);
        int n = to - from;
        double[] noise = prefetcher.take(n, std);
        for (int i = from; i < to; i++) v[i] = v[i] + noise[i - from];
        prefetcher.prepare(n, std, noise);
    }

    @Override
    public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
        if (prefetcher == null) {
            super.addGaussianRounded(sum, out, from, to, std);
            return;
        }
        checkArguments(Math.min(sum.length, out.length), from, to, std);
        int n = to - from;
        double[] noise = prefetcher.take(n, std);
        for (int i = from; i < to; i++) out[i] = (float) (sum[i] + noise[i - from]);
        prefetcher.prepare(n, std, noise);
    }

    /**
     * With prefetch: the whole prepared draw (n doubles, as the one-call overloads use), read piece by
     * piece, and the next one prepared once the last piece is added. Without: as {@link ChunkedGaussian}.
     */
    @Override
    public GaussianDraw openDraw(int n, double std) {
        if (prefetcher == null) return super.openDraw(n, std);
        checkArguments(n, 0, n, std);
        double[] noise = prefetcher.take(n, std);
        return new GaussianDraw() {
            private int position;
            private boolean prepared;

            @Override
            public int length() {
                return n;
            }

            @Override
            public void addTo(double[] v, int at, int offset, int count) {
                position = GaussianDraw.checkPiece(n, position, v, at, offset, count);
                for (int k = 0; k < count; k++) v[at + k] = v[at + k] + noise[offset + k];
                // Once: an empty piece after the last must not prepare the served buffer a second time.
                if (position == n && !prepared) {
                    prepared = true;
                    prefetcher.prepare(n, std, noise);
                }
            }
        };
    }

    @Override
    public void awaitPrefetch() {
        if (prefetcher != null) prefetcher.settle();
    }

    /**
     * A whole draw as {@link #draw}, started on the idle pool's threads (or the idle prefetch thread) and finished by
     * whoever calls its {@link SharedDraw#get}: chunk c gets call {@code call}'s chunk-c values whoever fills it.
     */
    private SharedDraw shared(int n, double std, double[] out) {
        long call = nextCall();
        checkCall(call);
        SharedDraw d = new SharedDraw(out, n, (c, lo, hi) -> {
            ZigguratBlock normals = normals(call, c);
            normals.sumsOfFour(out, lo, hi, 0.5 * std);
            spare.offer(normals);
        });
        // A draw of a few chunks is filled by its caller alone (NoisePrefetcher does not prepare those).
        if (n > (long) NoisePool.CALLER_CHUNKS * CHUNK) pool.onEachThread(d::work, NoisePrefetcher::runIdle);
        return d;
    }

    /** A whole draw of n coordinates with a fresh call index, kept in double (rounded once, when added). */
    private double[] draw(int n, double std, double[] out) {
        long call = nextCall();
        checkCall(call);
        forEachChunk(n, (c, lo, hi) -> {
            ZigguratBlock normals = normals(call, c);
            normals.sumsOfFour(out, lo, hi, 0.5 * std);
            spare.offer(normals);
        });
        return out;
    }

    @Override
    void fillChunk(float[] v, int from, int to, double std, long call, int chunk) {
        checkCall(call);
        ZigguratBlock normals = normals(call, chunk);
        normals.addSumsOfFour(v, from, to, 0.5 * std);
        spare.offer(normals);
    }

    @Override
    void fillChunk(double[] sum, int d, float[] out, int from, int to, double std, long call, int chunk) {
        checkCall(call);
        ZigguratBlock normals = normals(call, chunk);
        normals.addSumsOfFour(sum, d, out, from, to, 0.5 * std);
        spare.offer(normals);
    }

    @Override
    void fillChunk(double[] v, int from, int to, double std, long call, int chunk) {
        checkCall(call);
        ZigguratBlock normals = normals(call, chunk);
        normals.addSumsOfFour(v, from, to, 0.5 * std);
        spare.offer(normals);
    }

    /**
     * The normals of chunk {@code chunk} of call {@code call}: its own keystream, stream id
     * call·2^32 + chunk, read by a sampler reused from an earlier chunk (restarted on the new stream,
     * as a fresh one would be) when one is free. Each is used by one thread at a time: taken from
     * the queue, used, given back.
     */
    private ZigguratBlock normals(long call, int chunk) {
        long streamId = call << 32 | chunk;
        ZigguratBlock reused = spare.poll();
        return reused != null ? reused.restart(streamId) : new ZigguratBlock(keystream(streamId), kernel);
    }

    private ZigguratBlock.Words keystream(long streamId) {
        AesCtrStream aes = new AesCtrStream(key, streamId);
        return new ZigguratBlock.Words() {
            @Override
            public void next(long[] out, int off, int len) {
                aes.nextLongs(out, off, len);
            }

            @Override
            public void restart(long id) {
                aes.restart(id);
            }
        };
    }

    private static void checkCall(long call) {
        if (call >= (1L << 32)) throw new IllegalStateException("more than 2^32 noise calls under one key");
    }

    @Override
    public boolean isSecure() {
        return true;
    }

    @Override
    public Long exportState() {
        return null;
    }

    @Override
    public void restoreState(long calls) {
        throw new IllegalStateException("secure noise has no restorable state: a resumed run re-keys from the DRBG");
    }

    @Override
    public String mode() {
        return "secure";
    }
}
