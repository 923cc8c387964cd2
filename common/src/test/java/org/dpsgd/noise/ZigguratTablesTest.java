package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ziggurat's stored tables against a 70-digit recomputation ({@link ZigguratTableGenerator}'s
 * construction, run here): every height is the double nearest the ideal ziggurat's height, every
 * width the double nearest M/1024 over its stored strip (so every rectangle's area is M/1024
 * within 2^-53 relative), the scales are a_k·2^-53, and the alias table is exactly the integer
 * split of the residual pieces' exact areas (each piece within one unit of 2^-53 of its share,
 * no mass on columns without a piece). Then the total variation distance between the sampler's law
 * (for exact uniforms) and the half-normal's is bounded from the stored doubles (rectangle areas,
 * corners against the curve, piece weights against exact areas from erf): below 1.5e-16 (measured
 * 6.2e-17). Planted defects of one ulp or one unit in a width, a height, the tail's start, the cap,
 * an alias threshold or an alias target each fail the check. (The same tables, bit for bit, came
 * out of an independent mpmath computation at 60 digits; see docs/core.md "Noise".)
 */
class ZigguratTablesTest {
    private static final MathContext MC = ZigguratTableGenerator.MC;
    private static final BigDecimal MASS = ZigguratTableGenerator.MASS;
    private static final BigDecimal SLOT = ZigguratTableGenerator.SLOT;
    private static final BigDecimal ALL_UNITS = new BigDecimal(BigInteger.ONE.shiftLeft(53));
    /** The ideal ziggurat in 70 digits, computed once (a few seconds). */
    private static final ZigguratTableGenerator.Ideal IDEAL = ZigguratTableGenerator.ideal();

    private static BigDecimal big(double x) {
        return new BigDecimal(x);
    }

    /** Whether d is the double nearest x: strictly closer than both neighbours (a near-tie fails too). */
    static boolean isNearest(double d, BigDecimal x) {
        BigDecimal err = x.subtract(big(d)).abs();
        return err.compareTo(x.subtract(big(Math.nextUp(d))).abs()) < 0
                && err.compareTo(x.subtract(big(Math.nextDown(d))).abs()) < 0;
    }

    /** The check's failures (empty if the tables are right), the total variation bound, the worst rectangle area error. */
    record Verdict(List<String> failures, double totalVariation, double worstArea) {}

    static Verdict check(ZigguratTables t) {
        List<String> bad = new ArrayList<>();
        int n = t.rectangles;
        if (n != IDEAL.rectangles()) return new Verdict(List.of("N = " + n + ", not " + IDEAL.rectangles()), 1, 1);
        // Correctly rounded: heights from the ideal ziggurat, widths from the stored strips.
        for (int j = 0; j <= n; j++)
            if (!isNearest(t.h[j], IDEAL.h()[j]))
                bad.add("height " + j + " " + t.h[j] + " is not the nearest double to " + IDEAL.h()[j]);
        for (int j = 0; j < n; j++)
            if (!isNearest(t.a[j], ZigguratTableGenerator.width(t.h[j], t.h[j + 1])))
                bad.add("width " + j + " " + t.a[j] + " is not the nearest double to M/1024 over its strip");
        for (int k = 0; k < ZigguratTables.SLOTS; k++)
            if (Double.doubleToRawLongBits(t.scale[k])
                    != Double.doubleToRawLongBits(k < n ? Math.scalb(t.a[k], -53) : Double.NaN)) bad.add("scale " + k);
        if (!bad.isEmpty()) return new Verdict(bad, 1, 1); // the rest (seconds of erf series) needs the right entries
        // Rectangles: area against one slot's share, and the top-right corner against the curve.
        BigDecimal rect = BigDecimal.ZERO, corners = BigDecimal.ZERO, worstArea = BigDecimal.ZERO;
        for (int j = 0; j < n; j++) {
            BigDecimal area = big(t.a[j]).multiply(big(t.h[j + 1]).subtract(big(t.h[j])), MC);
            BigDecimal error = area.subtract(SLOT).abs();
            rect = rect.add(error, MC);
            worstArea = worstArea.max(error.divide(SLOT, MC));
            // Between the curve and the line y = h[j+1] near x = a[j] lies either a sliver of the
            // rectangle above the curve or a gap under it that no region covers; both fit in a box
            // |d| high and at most 2|d|/|f'(a_j)| = 2|d|/(a_j·h_{j+1}) wide (the corner is within
            // 1e-10 of the curve, so f' hardly changes across it).
            BigDecimal d = ZigguratTableGenerator.f(big(t.a[j])).subtract(big(t.h[j + 1]), MC);
            if (d.abs().compareTo(big(t.h[j + 1]).movePointLeft(10)) > 0)
                bad.add("rectangle " + j + "'s corner is " + d + " off the curve");
            corners = corners.add(
                    d.multiply(d, MC).multiply(BigDecimal.valueOf(2), MC).divide(big(t.a[j] * t.h[j + 1]), MC), MC);
        }
        if (worstArea.compareTo(BigDecimal.valueOf(0x1p-53)) > 0)
            bad.add("a rectangle's area is off by " + worstArea.doubleValue() + " relative (more than 2^-53)");
        // Residual pieces: exact areas over the stored doubles, against what the alias table gives each.
        BigDecimal[] area = ZigguratTableGenerator.pieceAreas(t.a, t.h);
        BigDecimal total = BigDecimal.ZERO;
        for (BigDecimal x : area) total = total.add(x, MC);
        long[] given = new long[ZigguratTables.SLOTS];
        for (int c = 0; c < ZigguratTables.SLOTS; c++) {
            given[c] += t.keep[c];
            given[t.alias[c]] += ZigguratTables.COLUMN - t.keep[c];
        }
        BigDecimal residualShare =
                BigDecimal.valueOf(ZigguratTables.SLOTS - n).divide(BigDecimal.valueOf(ZigguratTables.SLOTS), MC);
        BigDecimal pieces = BigDecimal.ZERO;
        for (int p = 0; p < ZigguratTables.SLOTS; p++) {
            BigDecimal exactUnits = p <= n ? area[p].divide(total, MC).multiply(ALL_UNITS, MC) : BigDecimal.ZERO;
            if (BigDecimal.valueOf(given[p]).subtract(exactUnits).abs().compareTo(BigDecimal.ONE) >= 0)
                bad.add("piece " + p + " gets " + given[p] + " units of 2^-53, its exact share is " + exactUnits);
            BigDecimal weight =
                    residualShare.multiply(BigDecimal.valueOf(given[p]), MC).divide(ALL_UNITS, MC);
            BigDecimal exact = p <= n ? area[p].divide(MASS, MC) : BigDecimal.ZERO;
            pieces = pieces.add(weight.subtract(exact).abs(), MC);
        }
        // The integer split is exactly the construction's (largest remainders, then Vose).
        ZigguratTableGenerator.Alias want = ZigguratTableGenerator.alias(ZigguratTableGenerator.units(area));
        if (!Arrays.equals(t.keep, want.keep())) bad.add("keep differs from the exact split");
        if (!Arrays.equals(t.alias, want.alias())) bad.add("alias differs from the exact split");
        // Total variation (2-D: uniform on each region with its weight against uniform under the curve,
        // which bounds the x-marginal's): the regions tile the area up to the corners' slivers and gaps
        // (counted three times: the rectangle, the gap, the piece area's formula).
        BigDecimal tv = rect.add(pieces.multiply(MASS, MC), MC)
                .add(corners.multiply(BigDecimal.valueOf(3), MC), MC)
                .divide(MASS.multiply(BigDecimal.valueOf(2), MC), MC);
        if (tv.doubleValue() > 1.5e-16) bad.add("total variation bound " + tv.doubleValue());
        return new Verdict(bad, tv.doubleValue(), worstArea.doubleValue());
    }

    @Test
    void theStoredTablesAreCorrectlyRounded() {
        ZigguratTables t = ZigguratTables.EXACT;
        Verdict v = check(t);
        assertTrue(v.failures().isEmpty(), v.failures().toString());
        assertEquals(1021, t.rectangles, "rectangles of area √(π/2)/1024 that fit");
        assertTrue(v.totalVariation() < 1.5e-16, "total variation bound " + v.totalVariation());
        System.out.println("ziggurat tables: total variation bound " + v.totalVariation()
                + ", worst rectangle area error " + v.worstArea());
    }

    /** N is as large as it can be: no rectangle of one slot's area fits above the last one (the cap is smaller). */
    @Test
    void noFurtherRectangleFits() {
        ZigguratTables t = ZigguratTables.EXACT;
        double top = t.h[t.rectangles], best = 0;
        for (int i = 1; i < 1_000_000; i++) {
            double x = i * 1e-6;
            best = Math.max(best, x * (Math.exp(-0.5 * x * x) - top));
        }
        assertTrue(best < ZigguratTables.A * (1 - 1e-6), "a rectangle of area " + best + " fits above the last");
    }

    /** Tables of the wrong shape are refused when built (the class-load check of the constants). */
    @Test
    void misshapenTablesAreRefused() {
        ZigguratTables e = ZigguratTables.EXACT;
        double[] a = e.a.clone();
        a[300] = a[301];
        assertThrows(IllegalStateException.class, () -> new ZigguratTables(a, e.h, e.keep, e.alias));
        double[] h = e.h.clone();
        h[e.rectangles + 1] = 0.999;
        assertThrows(IllegalStateException.class, () -> new ZigguratTables(e.a, h, e.keep, e.alias));
        long[] keep = e.keep.clone();
        keep[ZigguratTables.SLOTS - 1] = 1; // the last column has no piece of its own
        assertThrows(IllegalStateException.class, () -> new ZigguratTables(e.a, e.h, keep, e.alias));
        int[] alias = e.alias.clone();
        alias[0] = e.rectangles + 1; // a piece that does not exist
        assertThrows(IllegalStateException.class, () -> new ZigguratTables(e.a, e.h, e.keep, alias));
    }

    /** A table entry one ulp off. */
    static Stream<Arguments> ulpDefects() {
        int n = ZigguratTables.EXACT.rectangles;
        return Stream.of(
                Arguments.of("width 500 one ulp up", (Consumer<double[][]>) ah -> ah[0][500] = Math.nextUp(ah[0][500])),
                Arguments.of("the tail's start a_0 one ulp down", (Consumer<double[][]>)
                        ah -> ah[0][0] = Math.nextDown(ah[0][0])),
                Arguments.of(
                        "height 700 one ulp up", (Consumer<double[][]>) ah -> ah[1][700] = Math.nextUp(ah[1][700])),
                Arguments.of("the cap's bottom h_N one ulp down", (Consumer<double[][]>)
                        ah -> ah[1][n] = Math.nextDown(ah[1][n])));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ulpDefects")
    void aTableEntryOneUlpOffFails(String what, Consumer<double[][]> plant) {
        ZigguratTables e = ZigguratTables.EXACT;
        double[][] ah = {e.a.clone(), e.h.clone()};
        plant.accept(ah);
        Verdict v = check(new ZigguratTables(ah[0], ah[1], e.keep, e.alias));
        assertFalse(v.failures().isEmpty(), what + " went unseen");
    }

    @Test
    void anAliasEntryOneUnitOffFails() {
        ZigguratTables e = ZigguratTables.EXACT;
        int c = 0;
        while (e.keep[c] == 0 || e.keep[c] == ZigguratTables.COLUMN) c++;
        long[] keep = e.keep.clone();
        keep[c] += 1; // 2^-43 of one column
        assertFalse(
                check(new ZigguratTables(e.a, e.h, keep, e.alias)).failures().isEmpty(),
                "an alias threshold one unit off went unseen");
        int[] alias = e.alias.clone();
        alias[c] = alias[c] == 0 ? 1 : alias[c] - 1;
        assertFalse(
                check(new ZigguratTables(e.a, e.h, e.keep, alias)).failures().isEmpty(),
                "a wrong alias target went unseen");
    }
}
