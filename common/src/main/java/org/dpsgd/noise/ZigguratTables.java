package org.dpsgd.noise;

/**
 * The tables of a 1,024-slot ziggurat of equal-area rectangles for the half-normal density's
 * shape f(x) = exp(-x²/2), x ≥ 0 (total area M = √(π/2)). Rectangle j is [0, a_j] × [h_j, h_{j+1}]
 * with h_0 = 0, its top-right corner on the curve, h_{j+1} = f(a_j) (to ~1e-13 in the stored
 * doubles, see below), and area M/1024, so
 * the rectangles stack under the curve from the base up and each is one slot of probability 1/1024:
 * a word whose slot is a rectangle gives x uniform in [0, a_j) with no test at all (the layout of
 * McFarland 2016; the classic Marsaglia &amp; Tsang 2000 ziggurat tests every draw against the
 * next layer's width instead). The stack stops at the first rectangle that no longer fits; the rest
 * of the area under the curve, (1024 − N)/1024 of it for N rectangles, is the residual: the
 * tail beyond a_0, the wedge of each layer j ≥ 1 between a_j and the curve, and the cap above the
 * last rectangle. Its pieces are chosen in proportion to their areas by an alias table
 * ({@link #keep}, {@link #alias}: Walker 1977, Vose 1991), then drawn by rejection from their
 * bounding boxes against f itself, or for the tail by Marsaglia's (1964) method.
 *
 * <p>The values are constants ({@link ZigguratTableData}), generated in 70-digit arithmetic by
 * {@code ZigguratTableGenerator} (test tree) and correctly rounded: each height is the double
 * nearest the ideal ziggurat's, each width the double nearest the one that gives its stored strip
 * [h_j, h_{j+1}] an area of exactly M/1024 (so every rectangle's area is M/1024 within 2^-53
 * relative), and the alias table splits 2^53 units among the residual pieces in proportion to their
 * exact areas over the stored doubles, each within one unit. {@code ZigguratTablesTest} recomputes
 * every entry and bounds the total variation distance between the sampler's law (for exact
 * uniforms) and the half-normal's by 1e-16 (6.2e-17). Class loading only copies the constants and
 * checks their shape.
 */
final class ZigguratTables {
    static final int SLOTS = 1024;
    /** The area under f over [0, ∞): √(π/2). */
    static final double M = Math.sqrt(Math.PI / 2);
    /** Every rectangle's area, one slot's share: M/1024. */
    static final double A = M / SLOTS;
    /** The alias thresholds' scale: 43 bits, so keep[c] = 2^43 always keeps column c's piece. */
    static final long COLUMN = 1L << 43;

    /** The tables used by the secure noise (correctly rounded, see above). */
    static final ZigguratTables EXACT = new ZigguratTables(
            ZigguratTableData.WIDTH, ZigguratTableData.HEIGHT, ZigguratTableData.KEEP, ZigguratTableData.ALIAS);

    /** N, the number of rectangles (the fast slots 0..N-1). */
    final int rectangles;
    /** a[j], rectangle j's width, j = 0..N-1; a[N] = 0 (the cap's left edge). */
    final double[] a;
    /** h[j], rectangle j's bottom, j = 0..N; h[0] = 0, h[j+1] ≈ f(a[j]); h[N+1] = 1 (the cap's top). */
    final double[] h;
    /** scale[k] = a[k]·2^-53 for a rectangle slot k &lt; N, NaN for a residual slot. */
    final double[] scale;

    /**
     * Alias method (Walker 1977, Vose 1991) over the residual pieces (piece 0 the tail beyond a[0],
     * piece p in 1..N the box [a[p], a[p-1]] × [h[p], h[p+1]] under the curve: layer p's wedge, piece N
     * the cap): column c keeps piece c if its 43-bit draw is below keep[c], else gives piece alias[c].
     */
    final long[] keep;
    /** See {@link #keep}. */
    final int[] alias;

    /**
     * Tables from widths a[0..N] and heights h[0..N+1] and the alias columns; refuses ones whose
     * shape is wrong (lengths, ends, monotonicity, ranges). Tests build defective ones with it.
     */
    ZigguratTables(double[] a, double[] h, long[] keep, int[] alias) {
        int n = a.length - 1;
        this.rectangles = n;
        this.a = a.clone();
        this.h = h.clone();
        this.keep = keep.clone();
        this.alias = alias.clone();
        // Messages are built only on failure: string concatenation's first use costs milliseconds.
        if (n < 1 || n >= SLOTS || h.length != n + 2) throw invalid("lengths");
        if (a[n] != 0 || h[0] != 0 || h[n + 1] != 1) throw invalid("ends");
        for (int j = 0; j < n; j++) if (!(a[j] > a[j + 1] && h[j + 1] > h[j])) throw invalid("not monotone at " + j);
        if (keep.length != SLOTS || alias.length != SLOTS) throw invalid("alias lengths");
        for (int c = 0; c < SLOTS; c++) {
            if (keep[c] < 0 || keep[c] > COLUMN || alias[c] < 0 || alias[c] > n) throw invalid("alias column " + c);
            if (c > n && keep[c] != 0) throw invalid("column " + c + " keeps a piece that does not exist");
        }
        this.scale = new double[SLOTS];
        for (int k = 0; k < SLOTS; k++) scale[k] = k < rectangles ? Math.scalb(a[k], -53) : Double.NaN;
    }

    private static IllegalStateException invalid(String what) {
        return new IllegalStateException("ziggurat tables: " + what);
    }

    static double f(double x) {
        return Math.exp(-0.5 * x * x);
    }
}
