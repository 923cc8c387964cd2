package org.dpsgd.noise;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Splits a range into fixed-size chunks and fills them on a {@link NoisePool}, each chunk from its
 * own generator chosen by (call index, chunk index), so the result does not depend on the thread
 * count or the pool. Call indices are taken atomically: a draw prepared on a background thread and
 * one made on the caller's thread never share an index, so they never share a stream.
 */
abstract class ChunkedGaussian implements NoiseSource {
    // Small enough that a small model's ~20k parameters spread over two cores; large enough that the
    // per-chunk setup (a fresh cipher, ~20 us) stays a few percent of the chunk's work.
    static final int CHUNK = 1 << 14;

    static {
        // A noise piece boundary (GaussianDraw.ALIGNMENT) must never cut a chunk's keystream.
        if (GaussianDraw.ALIGNMENT % CHUNK != 0) throw new AssertionError("piece alignment must be whole chunks");
    }

    private final AtomicLong calls = new AtomicLong();
    private final NoisePool pool;

    ChunkedGaussian(NoisePool pool) {
        if (pool == null) throw new IllegalArgumentException("noise pool is null");
        this.pool = pool;
    }

    /** Adds std·N(0,1) to v[from..to) using the generator of (call, chunk). */
    abstract void fillChunk(float[] v, int from, int to, double std, long call, int chunk);

    /** Adds std·N(0,1) to v[from..to) in double using the generator of (call, chunk): the same draws as the float overload. */
    abstract void fillChunk(double[] v, int from, int to, double std, long call, int chunk);

    @Override
    public void addGaussian(float[] v, int from, int to, double std) {
        checkArguments(v.length, from, to, std);
        long call = nextCall();
        forEachChunk(to - from, (c, lo, hi) -> fillChunk(v, from + lo, from + hi, std, call, c));
    }

    /**
     * out[i] = (float) (sum[i + d] + std·N(0,1)) for i in [from, to) using the generator of (call,
     * chunk): the same draws again; {@code d} shifts where the sum is read (0: the same coordinates).
     */
    abstract void fillChunk(double[] sum, int d, float[] out, int from, int to, double std, long call, int chunk);

    @Override
    public void addGaussianRounded(double[] sum, float[] out, int from, int to, double std) {
        checkArguments(Math.min(sum.length, out.length), from, to, std);
        long call = nextCall();
        forEachChunk(to - from, (c, lo, hi) -> fillChunk(sum, 0, out, from + lo, from + hi, std, call, c));
    }

    @Override
    public void addGaussian(double[] v, int from, int to, double std) {
        checkArguments(v.length, from, to, std);
        long call = nextCall();
        forEachChunk(to - from, (c, lo, hi) -> fillChunk(v, from + lo, from + hi, std, call, c));
    }

    /**
     * One call index taken now; each piece fills its own chunks (chunk index = offset / CHUNK + c),
     * so the pieces add exactly what one addGaussian(double[]) call over the n coordinates adds.
     */
    @Override
    public GaussianDraw openDraw(int n, double std) {
        checkArguments(n, 0, n, std);
        long call = nextCall();
        return new GaussianDraw() {
            private int position;

            @Override
            public int length() {
                return n;
            }

            @Override
            public void addTo(double[] v, int at, int offset, int count) {
                position = GaussianDraw.checkPiece(n, position, v, at, offset, count);
                int first = offset / CHUNK;
                forEachChunk(count, (c, lo, hi) -> fillChunk(v, at + lo, at + hi, std, call, first + c));
            }

            /**
             * One pass per chunk, (float) (v + z) straight into out (v itself is only read, unlike
             * addTo's), on the pool while the caller goes on: pieces of this draw (and of later draws)
             * may overlap. A chunk's noise is fixed by (call, first + c), as in addTo.
             */
            @Override
            public Pending startAddRounded(double[] v, int at, int offset, int count, float[] out, int outAt) {
                if (outAt < 0 || outAt + count > out.length)
                    throw new IllegalArgumentException(
                            "bad output piece [" + outAt + ", " + (outAt + count) + ") of " + out.length);
                position = GaussianDraw.checkPiece(n, position, v, at, offset, count);
                int first = offset / CHUNK;
                int d = at - outAt;
                return pool.start(
                        count,
                        CHUNK,
                        (c, lo, hi) -> fillChunk(v, d, out, outAt + lo, outAt + hi, std, call, first + c));
            }
        };
    }

    static void checkArguments(int length, int from, int to, double std) {
        if (from < 0 || to > length || from > to)
            throw new IllegalArgumentException("bad range [" + from + ", " + to + ") of " + length);
        if (!(std >= 0) || Double.isInfinite(std))
            throw new IllegalArgumentException("noise std must be finite and >= 0, got " + std);
    }

    /** Runs body over the chunks of [0, n) on this source's pool. */
    final void forEachChunk(int n, NoisePool.ChunkBody body) {
        pool.forEachChunk(n, CHUNK, body);
    }

    /** The threads this source draws with. */
    public final int threads() {
        return pool.threads();
    }

    final long nextCall() {
        return calls.getAndIncrement();
    }

    long calls() {
        return calls.get();
    }

    void setCalls(long c) {
        calls.set(c);
    }
}
