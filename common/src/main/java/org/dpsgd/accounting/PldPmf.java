package org.dpsgd.accounting;

/**
 * A discretised privacy loss distribution: probs[i] is the probability of loss
 * (lowerIndex + i)·discretisation, plus an atom at +∞ (infinityMass). Built pessimistically, so
 * every δ(ε) / ε(δ) read from it is an upper bound on the true value. Immutable.
 */
final class PldPmf {
    /** Mass that tail truncation may drop per composition; it is added to the +∞ atom. */
    static final double TAIL_MASS_TRUNCATION = 1e-15;

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
        int len = Fft.nextPowerOfTwo(Math.max(bounds[1] - bounds[0] + 1, n));
        double[] re = new double[len];
        double[] im = new double[len];
        System.arraycopy(probs, 0, re, 0, n);
        Fft.forward(re, im);
        for (int k = 0; k < len; k++) powerInPlace(re, im, k, times);
        Fft.inverse(re, im);
        return extract(re, bounds, times);
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
        int len = Fft.nextPowerOfTwo(need);
        double[] re = new double[len];
        double[] im = new double[len];
        System.arraycopy(a.probs, 0, re, 0, a.size());
        System.arraycopy(b.probs, 0, im, 0, b.size());
        Fft.forward(re, im);
        double[] x = new double[2];
        double[] y = new double[2];
        for (int k = 0; k <= len / 2; k++) {
            int m = (len - k) & (len - 1);
            double zr = re[k];
            double zi = im[k];
            double mr = re[m];
            double mi = im[m];
            // X = FFT(a)_k, Y = FFT(b)_k from conjugate symmetry.
            x[0] = 0.5 * (zr + mr);
            x[1] = 0.5 * (zi - mi);
            y[0] = 0.5 * (zi + mi);
            y[1] = 0.5 * (mr - zr);
            power(x, times);
            power(y, times);
            // W = X^T + i·Y^T at k, and its partner at L − k.
            re[k] = x[0] - y[1];
            im[k] = x[1] + y[0];
            re[m] = x[0] + y[1];
            im[m] = -x[1] + y[0];
        }
        Fft.inverse(re, im);
        PldPmf ca = a.extract(re, ba, times);
        PldPmf cb = b.extract(im, bb, times);
        return new PldPmf[] {ca, cb};
    }

    /** Reads the window [bounds[0], bounds[1]] of a circular {@code times}-fold convolution. */
    private PldPmf extract(double[] circular, long[] bounds, long times) {
        int len = circular.length;
        long outLen = bounds[1] - bounds[0] + 1;
        double[] out = new double[(int) outLen];
        int shift = (int) Math.floorMod(bounds[0], (long) len);
        for (int j = 0; j < outLen; j++) {
            double v = circular[(shift + j) % len];
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
        int len = Fft.nextPowerOfTwo(outLen);
        double[] re = new double[len];
        double[] im = new double[len];
        double[] re2 = new double[len];
        double[] im2 = new double[len];
        System.arraycopy(probs, 0, re, 0, probs.length);
        System.arraycopy(other.probs, 0, re2, 0, other.probs.length);
        Fft.forward(re, im);
        Fft.forward(re2, im2);
        for (int k = 0; k < len; k++) {
            double r = re[k] * re2[k] - im[k] * im2[k];
            double i = re[k] * im2[k] + im[k] * re2[k];
            re[k] = r;
            im[k] = i;
        }
        Fft.inverse(re, im);
        double[] conv = new double[outLen];
        for (int j = 0; j < outLen; j++) conv[j] = re[j] > 0 ? re[j] : 0;
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

    /** (re[k] + i·im[k])^exponent by repeated squaring, written back to index k. */
    private static void powerInPlace(double[] re, double[] im, int k, long exponent) {
        double[] z = {re[k], im[k]};
        powerInPlace(z, 0, 1, exponent);
        re[k] = z[0];
        im[k] = z[1];
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
