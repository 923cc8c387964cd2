package org.dpsgd.noise;

import org.apache.commons.numbers.gamma.Erfc;

/**
 * The tables of a 1,024-slot ziggurat of equal-area rectangles for the half-normal density's
 * shape f(x) = exp(-x²/2), x ≥ 0 (total area M = √(π/2)). Rectangle j is [0, a_j] × [h_j, h_{j+1}]
 * with h_0 = 0 and its top-right corner on the curve, h_{j+1} = f(a_j), and area exactly M/1024, so
 * the rectangles stack under the curve from the base up and each is one slot of probability 1/1024:
 * a word whose slot is a rectangle gives x uniform in [0, a_j) with no test at all (the layout of
 * McFarland 2016; the classic Marsaglia &amp; Tsang 2000 ziggurat tests every draw against the
 * next layer's width instead). The stack stops at the first rectangle that no longer fits; the rest
 * of the area under the curve, exactly (1024 − N)/1024 of it for N rectangles, is the residual: the
 * tail beyond a_0, the wedge of each layer j ≥ 1 between a_j and the curve, and the cap above the
 * last rectangle. Its pieces are chosen in proportion to their areas by an alias table
 * ({@link #keep}, {@link #alias}: Walker 1977, Vose 1991), then drawn by rejection from their
 * bounding boxes against f itself, or for the tail by Marsaglia's (1964) method.
 *
 * <p>Computed once in double: each a_j by bisection to the last bit on the decreasing branch of
 * x·(f(x) − h_j) = M/1024, the piece areas by 5-point Gauss–Legendre quadrature on 8 sub-intervals
 * (the tail by Commons Numbers' erfc). The construction refuses to run if the pieces do not add up
 * to the residual within 1e-9. {@code ZigguratTablesTest} checks every entry against an
 * independent 60-digit recomputation.
 */
final class ZigguratTables {
    static final int SLOTS = 1024;
    /** The area under f over [0, ∞): √(π/2). */
    static final double M = Math.sqrt(Math.PI / 2);
    /** Every rectangle's area, one slot's share: M/1024. */
    static final double A = M / SLOTS;

    /** The tables used by the secure noise. */
    static final ZigguratTables EXACT = build();

    /** N, the number of rectangles (the fast slots 0..N-1). */
    final int rectangles;
    /** a[j], rectangle j's width, j = 0..N-1; a[N] = 0 (the cap's left edge). */
    final double[] a;
    /** h[j], rectangle j's bottom, j = 0..N; h[0] = 0, h[j+1] = f(a[j]); h[N+1] = 1 (the cap's top). */
    final double[] h;
    /** scale[k] = a[k]·2^-53 for a rectangle slot k &lt; N, NaN for a residual slot. */
    final double[] scale;
    /**
     * The residual pieces' cumulative shares: piece 0 is the tail beyond a[0], piece p in 1..N the
     * box [a[p], a[p-1]] × [h[p], h[p+1]] under the curve (the wedge of layer p, piece N the cap);
     * cum[0] = 0, cum[p+1] − cum[p] = area of piece p / residual area, cum[N+1] = 1.
     */
    final double[] cum;

    /** Alias method (Walker 1977, Vose 1991) over the residual pieces: column c keeps piece c if its 43-bit draw is below keep[c], else gives piece alias[c]. */
    final long[] keep;
    /** See {@link #keep}. */
    final int[] alias;

    ZigguratTables(double[] a, double[] h, double[] cum) {
        this.rectangles = a.length - 1;
        this.a = a.clone();
        this.h = h.clone();
        this.cum = cum.clone();
        this.keep = new long[SLOTS];
        this.alias = new int[SLOTS];
        buildAlias(cum, keep, alias);
        this.scale = new double[SLOTS];
        for (int k = 0; k < SLOTS; k++) scale[k] = k < rectangles ? Math.scalb(a[k], -53) : Double.NaN;
    }

    /** Vose's alias construction from the cumulative shares, in units of 2^-43 per column. */
    private static void buildAlias(double[] cum, long[] keep, int[] alias) {
        double[] q = new double[SLOTS];
        for (int p = 0; p + 1 < cum.length; p++) q[p] = (cum[p + 1] - cum[p]) * SLOTS;
        java.util.ArrayDeque<Integer> small = new java.util.ArrayDeque<>(), large = new java.util.ArrayDeque<>();
        for (int c = 0; c < SLOTS; c++) (q[c] < 1 ? small : large).push(c);
        while (!small.isEmpty() && !large.isEmpty()) {
            int s = small.pop(), l = large.pop();
            keep[s] = Math.round(q[s] * 0x1p43);
            alias[s] = l;
            q[l] = (q[l] + q[s]) - 1;
            (q[l] < 1 ? small : large).push(l);
        }
        for (int c : large) {
            keep[c] = 1L << 43;
            alias[c] = c;
        }
        for (int c : small) {
            keep[c] = 1L << 43;
            alias[c] = c;
        }
    }

    static double f(double x) {
        return Math.exp(-0.5 * x * x);
    }

    private static ZigguratTables build() {
        double[] a = new double[SLOTS + 1], h = new double[SLOTS + 2];
        int n = 0;
        while (true) {
            double bottom = h[n];
            // g(x) = x·(f(x) − bottom) rises from 0 to its peak (where f(x)·(1 − x²) = bottom, below
            // x = 1) and falls back to 0 where f(x) = bottom; the rectangle is the root on the way down.
            double peak = bisect(0, 1, x -> f(x) * (1 - x * x) - bottom);
            if (peak * (f(peak) - bottom) < A) break;
            double right = bottom == 0 ? 40 : Math.sqrt(-2 * Math.log(bottom));
            a[n] = bisect(peak, right, x -> x * (f(x) - bottom) - A);
            h[n + 1] = f(a[n]);
            n++;
        }
        double[] widths = java.util.Arrays.copyOf(a, n + 1);
        widths[n] = 0;
        double[] heights = java.util.Arrays.copyOf(h, n + 2);
        heights[n + 1] = 1;
        double[] area = new double[n + 1];
        area[0] = M * Erfc.value(widths[0] / Math.sqrt(2));
        double total = area[0];
        for (int p = 1; p <= n; p++) {
            area[p] = wedgeArea(widths[p], widths[p - 1], heights[p]);
            total += area[p];
        }
        double residual = M - n * A;
        if (!(Math.abs(total / residual - 1) < 1e-9))
            throw new IllegalStateException("ziggurat residual pieces add up to " + total + ", not " + residual);
        double[] cum = new double[n + 2];
        double sum = 0;
        for (int p = 0; p <= n; p++) {
            cum[p] = sum / total;
            sum += area[p];
        }
        cum[n + 1] = 1;
        return new ZigguratTables(widths, heights, cum);
    }

    /** ∫_lo^hi (f(x) − bottom) dx: 5-point Gauss–Legendre on 8 equal sub-intervals. */
    static double wedgeArea(double lo, double hi, double bottom) {
        final double[] node = {0, 0.5384693101056831, -0.5384693101056831, 0.9061798459386640, -0.9061798459386640};
        final double[] weight = {
            0.5688888888888889, 0.4786286704993665, 0.4786286704993665, 0.2369268850561891, 0.2369268850561891
        };
        int parts = 8;
        double width = (hi - lo) / parts, s = 0;
        for (int i = 0; i < parts; i++) {
            double mid = lo + (i + 0.5) * width;
            for (int q = 0; q < node.length; q++) s += weight[q] * (f(mid + 0.5 * width * node[q]) - bottom);
        }
        return s * 0.5 * width;
    }

    /** The point in [lo, hi] where a function with g(lo) ≥ 0 ≥ g(hi) (or the reverse) changes sign, to the last bit. */
    private static double bisect(double lo, double hi, java.util.function.DoubleUnaryOperator g) {
        boolean rising = g.applyAsDouble(lo) < g.applyAsDouble(hi);
        while (true) {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) return lo;
            if ((g.applyAsDouble(mid) < 0) == rising) lo = mid;
            else hi = mid;
        }
    }
}
