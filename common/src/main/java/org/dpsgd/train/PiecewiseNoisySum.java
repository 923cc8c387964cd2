package org.dpsgd.train;

import org.dpsgd.backend.TrainableModel;
import org.dpsgd.noise.GaussianDraw;
import org.dpsgd.noise.NoiseSource;
import org.dpsgd.noise.PieceBuffers;
import org.dpsgd.optim.TrainableMask;

/**
 * Turns a private step's float64 clipped sum, as the model accumulated it, into the noisy float sum,
 * one piece of at most {@link #pieceLength()} coordinates at a time, so the host holds two pieces of
 * the float64 sum (reusable buffers) instead of all of it (8 bytes per parameter). Per piece: drain
 * it from the model in float64, sum it across processes in float64, add its part of the noise (one
 * {@link GaussianDraw} per trainable range, the same draws the one-call path adds) and round each
 * coordinate to float once. Every released coordinate is therefore (float) (float64 sum + its noise)
 * as before, and the cross-process sum of a coordinate still happens before its noise.
 *
 * <p>Pieces in parallel: the caller's thread drains and sums every piece in order; each piece's noise
 * and rounding then run on the noise source's threads ({@link GaussianDraw#startAddRounded}) while the
 * caller drains the next piece into the other buffer ({@link PieceBuffers}). A coordinate's noise
 * depends only on its place in its draw, so the values do not depend on the threads or on timing; a
 * buffer is reused only after the noise that read it is done, and {@link #release} returns or throws
 * only once no noise work of the step is left running.
 *
 * <p>Pieces start at each trainable range's first coordinate and are {@link #pieceLength()} long
 * (the last one of a range shorter), the same on every process, so the processes' cross-process
 * sums pair up. Frozen coordinates are drained and dropped (0 in the output, no noise, no sum).
 *
 * <p>Whole mode: with extra examples (audit canaries, added on the host to the whole float64 sum)
 * or a model that cannot drain ranges ({@link TrainableModel#drainsRanges()}), the sum is drained
 * whole into a full-length buffer ({@link #wholeSum()}) right after the accumulation, as before, and
 * the pieces are then read from it; the values are the same.
 *
 * <p>Never leaks an un-noised sum into the next step: {@link #startAccumulating()} first drops
 * whatever a failed step left undrained, and a failed accumulation is drained at once.
 */
public final class PiecewiseNoisySum {
    /**
     * The default piece: 2^20 coordinates, two 8 MB float64 buffers. Each piece is 64 of the noise's
     * 2^14-coordinate chunks, so a noise pool of up to 64 threads stays busy within one piece; 2^16
     * pieces (4 chunks) were faster on one thread but slower on two than on one (docs/benchmarks.md,
     * "Session 6", the paragraph on the piece size).
     */
    public static final int DEFAULT_PIECE = 1 << 20;

    private final TrainableModel model;
    private final TrainableMask mask;
    private final int piece;
    private final int n;
    private final double[] whole; // whole mode only
    // Piece mode: two piece buffers, allocated on first use, reused; both modes: the noise in flight.
    private final PieceBuffers buffers;
    // Piece mode: coordinates [0, drained) of the model's accumulator are drained this step (n when
    // nothing is pending).
    private int drained;

    /**
     * @param pieceLength coordinates per piece, a positive multiple of {@link GaussianDraw#ALIGNMENT}
     * @param wholeSum true to hold the whole float64 sum (the caller adds to it: extra examples)
     */
    public PiecewiseNoisySum(TrainableModel model, TrainableMask mask, int pieceLength, boolean wholeSum) {
        if (pieceLength <= 0 || pieceLength % GaussianDraw.ALIGNMENT != 0)
            throw new IllegalArgumentException("the float64 drain's piece length must be a positive multiple of "
                    + GaussianDraw.ALIGNMENT + ", got " + pieceLength);
        long count = model.network().parameterCount();
        if (count != mask.size())
            throw new IllegalArgumentException("mask of " + mask.size() + " coordinates for a model of " + count);
        this.model = model;
        this.mask = mask;
        this.piece = pieceLength;
        this.n = mask.size();
        this.whole = wholeSum || !model.drainsRanges() ? new double[n] : null;
        this.drained = n;
        this.buffers = new PieceBuffers(Math.max(1, Math.min(piece, n)));
    }

    /** Coordinates per piece. */
    public int pieceLength() {
        return piece;
    }

    /** The full-length float64 sum in whole mode (drained by {@link #finishAccumulating}); null in piece mode. */
    public double[] wholeSum() {
        return whole;
    }

    /** Call before the step's first accumulation: drops anything an earlier, failed step left in the model. */
    public void startAccumulating() {
        discardUndrained();
        drained = 0;
    }

    /**
     * Call when the step's accumulation has ended (in a {@code finally}): whole mode drains the
     * whole sum into {@link #wholeSum()}; piece mode leaves it in the model for {@link #release},
     * unless the accumulation {@code failed}: then it is drained and dropped at once.
     */
    public void finishAccumulating(boolean failed) {
        if (whole != null) {
            model.drainGradientSum(whole);
            drained = n;
        } else if (failed) {
            discardUndrained();
        }
    }

    /**
     * Writes the noisy sum into {@code out}, piece by piece: drain (piece mode), {@code reduction}'s
     * float64 cross-process sum (null: none, the model's sum already covers the run), then, when
     * {@code noise} is not null (the process that draws it), the noise of std {@code std} and one
     * rounding into {@code out}, 0 on frozen coordinates. Without noise {@code out} is not written
     * (another process's noisy sum will replace it).
     */
    public void release(GradientReduction reduction, NoiseSource noise, double std, float[] out) {
        if (noise != null && (!(std > 0) || Double.isInfinite(std)))
            throw new IllegalArgumentException("noise std must be finite and > 0, got " + std);
        if (out.length != n)
            throw new IllegalArgumentException("gradient length " + out.length + " differs from the model's " + n);
        if (whole == null && drained != 0)
            throw new IllegalStateException("no accumulated sum to release: call startAccumulating() first");
        try {
            releasePieces(reduction, noise, std, out);
        } catch (RuntimeException | Error e) {
            // No noise work may still write into out or read a buffer once this returns.
            buffers.awaitAllAfter(e);
            throw e;
        }
        buffers.awaitAll();
    }

    /**
     * The piece loop. The caller's thread drains and sums every piece, in order; each piece's noise
     * and rounding are started on the noise threads and overlap the draining of the next piece (two
     * buffers, {@link PieceBuffers}). A piece's noise depends only on its offset in its range's draw.
     */
    private void releasePieces(GradientReduction reduction, NoiseSource noise, double std, float[] out) {
        int pos = 0;
        for (int r = 0; r < mask.ranges(); r++) {
            int from = mask.from(r), to = mask.to(r);
            dropFrozen(pos, from, noise != null ? out : null);
            GaussianDraw draw = noise == null ? null : noise.openDraw(to - from, std);
            for (int a = from; a < to; a += piece) {
                int len = Math.min(piece, to - a);
                double[] v;
                int at;
                if (whole != null) {
                    buffers.rotate(); // at most two pieces in flight
                    v = whole;
                    at = a;
                } else {
                    v = buffers.next();
                    at = 0;
                    model.drainGradientSum(v, a, a + len, 0);
                    drained = a + len;
                }
                if (reduction != null) reduction.sumAcrossProcesses(v, at, at + len);
                if (draw != null) buffers.track(draw.startAddRounded(v, at, a - from, len, out, a));
            }
            pos = to;
        }
        dropFrozen(pos, n, noise != null ? out : null);
    }

    /** Drains [from, to) (frozen coordinates) and drops it; zeroes {@code out} there when given. */
    private void dropFrozen(int from, int to, float[] out) {
        if (out != null) java.util.Arrays.fill(out, from, to, 0f);
        if (whole != null) return;
        for (int a = from; a < to; a += piece) {
            int len = Math.min(piece, to - a);
            model.drainGradientSum(buffers.next(), a, a + len, 0);
            drained = a + len;
        }
    }

    /** Drains and drops whatever of the accumulator this step has not drained yet (piece mode). */
    private void discardUndrained() {
        if (whole != null || drained >= n) {
            drained = n;
            return;
        }
        for (int a = drained; a < n; a += piece) {
            int len = Math.min(piece, n - a);
            model.drainGradientSum(buffers.next(), a, a + len, 0);
            drained = a + len;
        }
    }
}
