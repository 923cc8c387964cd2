package org.dpsgd.noise;

/**
 * Two float64 piece buffers, taken in turn, for a loop that fills one piece (drains it from a model,
 * sums it across processes) while the noise of the previous piece is still being added on the noise
 * threads ({@link GaussianDraw#startAddRounded}). A buffer is handed out again only after the work
 * that read it is done, so at most two pieces are in flight and the host holds two pieces, never the
 * whole vector. The order in which the caller fills pieces, and so every drain and cross-process
 * sum, stays its own; only the noise of a piece overlaps the filling of the next.
 */
public final class PieceBuffers {
    private final int length;
    private final double[][] buffers = new double[2][];
    private final GaussianDraw.Pending[] pending = {GaussianDraw.Pending.DONE, GaussianDraw.Pending.DONE};
    private int current = 1;

    /** Buffers of {@code length} doubles, allocated on first use. */
    public PieceBuffers(int length) {
        if (length < 1) throw new IllegalArgumentException("piece buffer length must be >= 1, got " + length);
        this.length = length;
    }

    /** Length of each buffer. */
    public int length() {
        return length;
    }

    /**
     * Moves to the other slot once the work {@link #track tracked} on it is done (rethrowing its
     * failure), and returns its buffer, which nothing else reads or writes from then on.
     */
    public double[] next() {
        rotate();
        if (buffers[current] == null) buffers[current] = new double[length];
        return buffers[current];
    }

    /**
     * As {@link #next()} for a piece that lives elsewhere (a caller's whole-length buffer): waits for
     * the work tracked on the other slot, so no more than two pieces are ever in flight.
     */
    public void rotate() {
        current ^= 1;
        GaussianDraw.Pending p = pending[current];
        pending[current] = GaussianDraw.Pending.DONE;
        p.await();
    }

    /** Records the work started on the current slot's piece; {@link #next()}/{@link #rotate()} and {@link #awaitAll()} wait for it. */
    public void track(GaussianDraw.Pending work) {
        if (work == null) throw new IllegalArgumentException("pending work is null");
        pending[current] = work;
    }

    /** Waits for all tracked work, every slot even when one failed; then rethrows the first failure. */
    public void awaitAll() {
        Throwable failure = null;
        for (int s = 0; s < 2; s++) {
            GaussianDraw.Pending p = pending[s];
            pending[s] = GaussianDraw.Pending.DONE;
            try {
                p.await();
            } catch (RuntimeException | Error e) { // an Error too: the other slot is still awaited
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
    }

    /**
     * Waits for all tracked work because {@code primary} ended the loop; any failure of that work is
     * added to it as suppressed. Then the buffers can be reused.
     */
    public void awaitAllAfter(Throwable primary) {
        try {
            awaitAll();
        } catch (RuntimeException | Error e) {
            primary.addSuppressed(e);
        }
    }
}
