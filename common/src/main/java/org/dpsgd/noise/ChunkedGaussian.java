package org.dpsgd.noise;

import java.util.stream.IntStream;

/**
 * Splits a range into fixed-size chunks and fills them in parallel, each chunk from its own
 * generator chosen by (call index, chunk index), so the result does not depend on the thread count.
 */
abstract class ChunkedGaussian implements NoiseSource {
    static final int CHUNK = 1 << 15;
    private long calls;

    /** Adds std·N(0,1) to v[from..to) using the generator of (call, chunk). */
    abstract void fillChunk(float[] v, int from, int to, double std, long call, int chunk);

    @Override
    public final void addGaussian(float[] v, int from, int to, double std) {
        if (from < 0 || to > v.length || from > to) throw new IllegalArgumentException("bad range [" + from + ", " + to + ") of " + v.length);
        if (!(std >= 0) || Double.isInfinite(std)) throw new IllegalArgumentException("noise std must be finite and >= 0, got " + std);
        long call = calls++;
        int n = to - from;
        int chunks = (n + CHUNK - 1) / CHUNK;
        IntStream range = IntStream.range(0, chunks);
        if (chunks > 1) range = range.parallel();
        range.forEach(c -> fillChunk(v, from + c * CHUNK, Math.min(to, from + (c + 1) * CHUNK), std, call, c));
    }

    long calls() { return calls; }

    void setCalls(long c) { calls = c; }
}
