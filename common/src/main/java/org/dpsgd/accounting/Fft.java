package org.dpsgd.accounting;

import org.dpsgd.UserError;

/** In-place iterative radix-2 complex FFT in double precision (length must be a power of two). */
final class Fft {
    private Fft() {}

    /** 2^25 points: two double arrays of 256 MiB each. Realistic DP-SGD runs need 2^20 or less. */
    static final int MAX_LENGTH = 1 << 25;

    static int nextPowerOfTwo(long n) {
        if (n > MAX_LENGTH) {
            throw new UserError("the privacy loss distribution needs an FFT of " + n + " points (more than "
                    + MAX_LENGTH + "): the noise is too small for PLD accounting at this discretisation; use the rdp "
                    + "accountant, or a PldAccountant with a coarser value discretisation interval");
        }
        int p = 1;
        while (p < n) p <<= 1;
        return p;
    }

    /** Forward transform (e^{−2πi jk/n}) of (re, im), in place. */
    static void forward(double[] re, double[] im) {
        transform(re, im, false);
    }

    /** Inverse transform including the 1/n factor, in place. */
    static void inverse(double[] re, double[] im) {
        transform(re, im, true);
        double scale = 1.0 / re.length;
        for (int i = 0; i < re.length; i++) {
            re[i] *= scale;
            im[i] *= scale;
        }
    }

    /** cos/sin(2πk/n) for k < n/2, computed directly (not by recurrence) to keep machine precision. */
    private record Twiddles(int n, double[] cos, double[] sin) {}

    /** The last table built; accountants reuse one FFT length many times. */
    private static volatile Twiddles cached;

    private static Twiddles twiddles(int n) {
        Twiddles t = cached;
        if (t != null && t.n == n) return t;
        int half = Math.max(n / 2, 1);
        double[] cos = new double[half];
        double[] sin = new double[half];
        for (int k = 0; k < half; k++) {
            double angle = 2 * Math.PI * k / n;
            cos[k] = Math.cos(angle);
            sin[k] = Math.sin(angle);
        }
        t = new Twiddles(n, cos, sin);
        cached = t;
        return t;
    }

    private static void transform(double[] re, double[] im, boolean inverse) {
        int n = re.length;
        if (Integer.bitCount(n) != 1 || im.length != n)
            throw new IllegalArgumentException("FFT length must be a power of two, got " + n);
        // Bit-reversal permutation.
        for (int i = 1, j = 0; i < n; i++) {
            int bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1) j ^= bit;
            j ^= bit;
            if (i < j) {
                double t = re[i];
                re[i] = re[j];
                re[j] = t;
                t = im[i];
                im[i] = im[j];
                im[j] = t;
            }
        }
        Twiddles tw = twiddles(n);
        double[] cos = tw.cos;
        double[] sin = tw.sin;
        double sign = inverse ? 1 : -1;
        int m = 1;
        if ((Integer.numberOfTrailingZeros(n) & 1) == 1) {
            // Odd power of two: one plain radix-2 stage (twiddle 1) first.
            for (int a = 0; a < n; a += 2) {
                double xr = re[a + 1];
                double xi = im[a + 1];
                re[a + 1] = re[a] - xr;
                im[a + 1] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
            m = 2;
        }
        // Two radix-2 stages (block sizes 2m and 4m) per pass over memory: radix-2².
        for (; 4 * m <= n; m *= 4) {
            int step1 = n / (2 * m);
            int step2 = n / (4 * m);
            for (int start = 0; start < n; start += 4 * m) {
                for (int k = 0; k < m; k++) {
                    double w1r = cos[k * step1];
                    double w1i = sign * sin[k * step1];
                    double w2r = cos[k * step2];
                    double w2i = sign * sin[k * step2];
                    // W_{4m}^{k+m} = W_{4m}^k · W_4, and W_4 = sign·i.
                    double w3r = -sign * w2i;
                    double w3i = sign * w2r;
                    int i0 = start + k;
                    int i1 = i0 + m;
                    int i2 = i1 + m;
                    int i3 = i2 + m;
                    // Stage 1: (i0, i1) and (i2, i3) with twiddle w1.
                    double tr = re[i1] * w1r - im[i1] * w1i;
                    double ti = re[i1] * w1i + im[i1] * w1r;
                    double a0r = re[i0] + tr;
                    double a0i = im[i0] + ti;
                    double a1r = re[i0] - tr;
                    double a1i = im[i0] - ti;
                    tr = re[i3] * w1r - im[i3] * w1i;
                    ti = re[i3] * w1i + im[i3] * w1r;
                    double a2r = re[i2] + tr;
                    double a2i = im[i2] + ti;
                    double a3r = re[i2] - tr;
                    double a3i = im[i2] - ti;
                    // Stage 2: (i0, i2) with w2 and (i1, i3) with w3.
                    tr = a2r * w2r - a2i * w2i;
                    ti = a2r * w2i + a2i * w2r;
                    re[i0] = a0r + tr;
                    im[i0] = a0i + ti;
                    re[i2] = a0r - tr;
                    im[i2] = a0i - ti;
                    tr = a3r * w3r - a3i * w3i;
                    ti = a3r * w3i + a3i * w3r;
                    re[i1] = a1r + tr;
                    im[i1] = a1i + ti;
                    re[i3] = a1r - tr;
                    im[i3] = a1i - ti;
                }
            }
        }
    }
}
