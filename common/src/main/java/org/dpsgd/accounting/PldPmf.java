package org.dpsgd.accounting;

import java.util.concurrent.Executors;
import org.dpsgd.UserError;
import org.jtransforms.fft.DoubleFFT_1D;
import pl.edu.icm.jlargearrays.ConcurrencyUtils;

/**
 * A discretised privacy loss distribution: probs[i] is the probability of loss
 * (lowerIndex + i)·discretisation, plus an atom at +∞ (infinityMass). Built pessimistically, so
 * every δ(ε) / ε(δ) read from it is an upper bound on the true value. Immutable.
 */
final class PldPmf {
    /** Mass that tail truncation may drop per composition; it is added to the +∞ atom. */
    static final double TAIL_MASS_TRUNCATION = 1e-15;

    /** 2^25 points: an interleaved complex array of 2^26 doubles (512 MiB). Realistic DP-SGD runs need 2^20 or less. */
    static final int MAX_FFT_LENGTH = 1 << 25;

    /** The FFT length (a power of two, where JTransforms is fastest) that holds {@code n} points. */
    static int fftLength(long n) {
        if (n > MAX_FFT_LENGTH) {
            throw new UserError("the privacy loss distribution needs an FFT of " + n + " points (more than "
                    + MAX_FFT_LENGTH + "): the noise is too small for PLD accounting at this discretisation; use the "
                    + "rdp accountant, or a PldAccountant with a coarser value discretisation interval");
        }
        int p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    static {
        // JTransforms splits transforms of 8,192 points and more over a JLargeArrays thread pool whose threads are not
        // daemons: a program that asked for a PLD ε would then outlive its main thread by their 60 s idle timeout.
        ConcurrencyUtils.setThreadPool(Executors.newCachedThreadPool(task -> {
            Thread t = new Thread(task, "pld-fft");
            t.setDaemon(true);
            return t;
        }));
    }

    /** The last plan built: an accountant uses one FFT length many times, and a plan's tables cost a transform. */
    private static volatile DoubleFFT_1D cachedFft;

    private static volatile int cachedFftLength;

    private static synchronized DoubleFFT_1D fft(int n) {
        if (cachedFft == null || cachedFftLength != n) {
            cachedFft = new DoubleFFT_1D(n);
            cachedFftLength = n;
        }
        return cachedFft;
    }

    final double discretisation;
    final long lowerIndex;
    final double[] probs;
    final double infinityMass;

    PldPmf(double discretisation, long lowerIndex, double[] probs, double infinityMass) {
        this.discretisation = discretisation;
        this.lowerIndex = lowerIndex;
        this.probs = probs;
        this.infinityMass = infinityMass;
    }

    /** No privacy loss at all: the unit of composition. */
    static PldPmf identity(double discretisation) {
        return new PldPmf(discretisation, 0, new double[] {1.0}, 0.0);
    }

    int size() {
        return probs.length;
    }

    /**
     * This PLD composed with itself {@code times} times: FFT, power by repeated squaring in the
     * frequency domain, inverse FFT. The output window comes from Chernoff bounds so that at most
     * {@link #TAIL_MASS_TRUNCATION} falls outside it; that mass is moved to +∞ (pessimistic).
     */
    PldPmf selfCompose(long times) {
        if (times < 0) throw new IllegalArgumentException("composition count must be >= 0, got " + times);
        if (times == 0) return identity(discretisation);
        if (times == 1) return this;
        int n = probs.length;
        long[] bounds = chernoffBounds(times, TAIL_MASS_TRUNCATION);
        int len = fftLength(Math.max(bounds[1] - bounds[0] + 1, n));
        double[] z = new double[2 * len]; // interleaved (re, im), as JTransforms takes it
        for (int j = 0; j < n; j++) z[2 * j] = probs[j];
        DoubleFFT_1D fft = fft(len);
        fft.complexForward(z);
        for (int k = 0; k < len; k++) powerInPlace(z, 2 * k, 2 * k + 1, times);
        fft.complexInverse(z, true);
        return extract(z, 0, bounds, times);
    }

    /**
     * {@code a} and {@code b} each composed {@code times} times, with one forward and one inverse
     * FFT for both: a and b are real, so a + i·b is transformed once and split by conjugate
     * symmetry. Same result as two {@link #selfCompose} calls, at half the FFT work.
     */
    static PldPmf[] selfComposeBoth(PldPmf a, PldPmf b, long times) {
        if (times <= 1 || Double.compare(a.discretisation, b.discretisation) != 0) {
            return new PldPmf[] {a.selfCompose(times), b.selfCompose(times)};
        }
        long[] ba = a.chernoffBounds(times, TAIL_MASS_TRUNCATION);
        long[] bb = b.chernoffBounds(times, TAIL_MASS_TRUNCATION);
        long need = Math.max(Math.max(ba[1] - ba[0] + 1, bb[1] - bb[0] + 1), Math.max(a.size(), b.size()));
        int len = fftLength(need);
        double[] z = new double[2 * len]; // a in the real parts, b in the imaginary parts
        for (int j = 0; j < a.size(); j++) z[2 * j] = a.probs[j];
        for (int j = 0; j < b.size(); j++) z[2 * j + 1] = b.probs[j];
        DoubleFFT_1D fft = fft(len);
        fft.complexForward(z);
        double[] x = new double[2];
        double[] y = new double[2];
        for (int k = 0; k <= len / 2; k++) {
            int m = (len - k) & (len - 1);
            double zr = z[2 * k];
            double zi = z[2 * k + 1];
            double mr = z[2 * m];
            double mi = z[2 * m + 1];
            // X = FFT(a)_k, Y = FFT(b)_k from conjugate symmetry.
            x[0] = 0.5 * (zr + mr);
            x[1] = 0.5 * (zi - mi);
            y[0] = 0.5 * (zi + mi);
            y[1] = 0.5 * (mr - zr);
            power(x, times);
            power(y, times);
            // W = X^T + i·Y^T at k, and its partner at L − k.
            z[2 * k] = x[0] - y[1];
            z[2 * k + 1] = x[1] + y[0];
            z[2 * m] = x[0] + y[1];
            z[2 * m + 1] = -x[1] + y[0];
        }
        fft.complexInverse(z, true);
        PldPmf ca = a.extract(z, 0, ba, times);
        PldPmf cb = b.extract(z, 1, bb, times);
        return new PldPmf[] {ca, cb};
    }

    /**
     * Reads the window [bounds[0], bounds[1]] of a circular {@code times}-fold convolution held in
     * the real ({@code part} 0) or imaginary (1) parts of the interleaved complex array {@code z}.
     */
    private PldPmf extract(double[] z, int part, long[] bounds, long times) {
        int len = z.length / 2;
        long outLen = bounds[1] - bounds[0] + 1;
        double[] out = new double[(int) outLen];
        int shift = (int) Math.floorMod(bounds[0], (long) len);
        for (int j = 0; j < outLen; j++) {
            double v = z[2 * ((shift + j) % len) + part];
            out[j] = v > 0 ? v : 0; // round-off can leave tiny negatives
        }
        double inf = TAIL_MASS_TRUNCATION - Math.expm1(times * Math.log1p(-infinityMass));
        return new PldPmf(
                discretisation,
                Math.addExact(Math.multiplyExact(lowerIndex, times), bounds[0]),
                out,
                Math.min(1.0, inf));
    }

    /** z ← z^exponent for z = (z[0], z[1]). */
    private static void power(double[] z, long exponent) {
        powerInPlace(z, 0, 1, exponent);
    }

    /** Composition of two PLDs with the same discretisation: FFT convolution, then tail truncation. */
    PldPmf compose(PldPmf other) {
        if (Double.compare(discretisation, other.discretisation) != 0) {
            throw new IllegalArgumentException("cannot compose PLDs with different discretisation intervals: "
                    + discretisation + " vs " + other.discretisation);
        }
        int outLen = probs.length + other.probs.length - 1;
        int len = fftLength(outLen);
        double[] z = new double[2 * len];
        double[] w = new double[2 * len];
        for (int j = 0; j < probs.length; j++) z[2 * j] = probs[j];
        for (int j = 0; j < other.probs.length; j++) w[2 * j] = other.probs[j];
        DoubleFFT_1D fft = fft(len);
        fft.complexForward(z);
        fft.complexForward(w);
        for (int k = 0; k < len; k++) {
            double r = z[2 * k] * w[2 * k] - z[2 * k + 1] * w[2 * k + 1];
            double i = z[2 * k] * w[2 * k + 1] + z[2 * k + 1] * w[2 * k];
            z[2 * k] = r;
            z[2 * k + 1] = i;
        }
        fft.complexInverse(z, true);
        double[] conv = new double[outLen];
        for (int j = 0; j < outLen; j++) conv[j] = z[2 * j] > 0 ? z[2 * j] : 0;
        double inf = infinityMass + other.infinityMass - infinityMass * other.infinityMass;
        return truncateTails(lowerIndex + other.lowerIndex, conv, inf);
    }

    /**
     * Drops a prefix and a suffix of mass <= TAIL_MASS_TRUNCATION/2 each: the prefix moves up to
     * the first kept loss, the suffix to +∞. Both moves only raise losses: pessimistic.
     */
    private PldPmf truncateTails(long lower, double[] p, double inf) {
        double half = TAIL_MASS_TRUNCATION / 2;
        int left = 0;
        double leftMass = 0;
        while (left < p.length - 1 && leftMass + p[left] <= half) leftMass += p[left++];
        int right = p.length;
        double rightMass = 0;
        while (right - 1 > left && rightMass + p[right - 1] <= half) rightMass += p[--right];
        double[] kept = java.util.Arrays.copyOfRange(p, left, right);
        kept[0] += leftMass;
        return new PldPmf(discretisation, lower + left, kept, Math.min(1.0, inf + rightMass));
    }

    /**
     * [lower, upper] index bounds of the {@code times}-fold convolution outside which at most
     * {@code tail} mass lies (Chernoff bound on each side, as dp_accounting's
     * compute_self_convolve_bounds, orders ±1..±20 divided by the length).
     */
    long[] chernoffBounds(long times, double tail) {
        int n = probs.length;
        long upper = Math.multiplyExact((long) (n - 1), times);
        long lower = 0;
        double logTwoOverTail = Math.log(2 / tail);
        for (int k = -20; k <= 20; k++) {
            if (k == 0) continue;
            double order = (double) k / n;
            double logMgf = logMgf(order);
            double bound = (times * logMgf + logTwoOverTail) / order;
            if (!Double.isFinite(bound)) continue;
            if (order > 0) upper = Math.min(upper, (long) Math.ceil(bound));
            else lower = Math.max(lower, (long) Math.floor(bound));
        }
        if (lower > upper) lower = upper;
        return new long[] {lower, upper};
    }

    /** log Σ_i p_i e^{i·t}, with |i·t| <= 20 so the running power never overflows. */
    private double logMgf(double t) {
        double r = Math.exp(t);
        double pow = 1;
        double sum = 0;
        for (double p : probs) {
            sum += p * pow;
            pow *= r;
        }
        return Math.log(sum);
    }

    /** (a[r] + i·a[i])^exponent by repeated squaring, written back in place. */
    private static void powerInPlace(double[] a, int r, int i, long exponent) {
        double rr = 1;
        double ri = 0;
        double br = a[r];
        double bi = a[i];
        long e = exponent;
        while (e > 0) {
            if ((e & 1) == 1) {
                double t = rr * br - ri * bi;
                ri = rr * bi + ri * br;
                rr = t;
            }
            e >>= 1;
            if (e > 0) {
                double t = br * br - bi * bi;
                bi = 2 * br * bi;
                br = t;
            }
        }
        a[r] = rr;
        a[i] = ri;
    }

    /** δ(ε) = P[loss = ∞] + Σ_{loss > ε} (1 − e^{ε − loss})·p: the hockey-stick divergence. */
    double deltaForEpsilon(double epsilon) {
        double delta = infinityMass;
        for (int i = probs.length - 1; i >= 0; i--) {
            double loss = (lowerIndex + i) * discretisation;
            if (loss <= epsilon) break;
            delta += -Math.expm1(epsilon - loss) * probs[i];
        }
        return Math.min(1.0, delta);
    }

    /** The smallest ε >= 0 with δ(ε) <= delta (dp_accounting's _get_epsilon_for_delta); +∞ if none. */
    double epsilonForDelta(double delta) {
        if (infinityMass > delta) return Double.POSITIVE_INFINITY;
        double massUpper = infinityMass;
        double massLower = 0;
        for (int i = probs.length - 1; i >= 0; i--) {
            double loss = (lowerIndex + i) * discretisation;
            if (massUpper > delta && massLower > 0 && Math.log((massUpper - delta) / massLower) >= loss) break;
            massUpper += probs[i];
            massLower += Math.exp(-loss) * probs[i];
            if (massUpper >= delta && massLower == 0) return Math.max(0, loss);
        }
        if (massUpper <= massLower + delta) return 0;
        return Math.log((massUpper - delta) / massLower);
    }
}
