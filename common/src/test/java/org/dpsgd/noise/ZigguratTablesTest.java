package org.dpsgd.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The ziggurat's tables against an independent 60-digit recomputation (own series for π, exp and
 * erf, nothing shared with {@link ZigguratTables}, which works in double): every rectangle's area
 * is √(π/2)/1024 within 1e-12 (the tables are computed in double; measured: 2.2e-13 at worst),
 * every rectangle lies under the curve (its top-right corner on it, within 4 ulps), the residual
 * pieces' exact areas (from erf) add up to the residual slots' share, and the alias table gives each
 * piece exactly its share. Together these bound the total variation distance between the sampler's
 * law and the half-normal's (for exact uniforms) by 1e-11. Planted defects — one width, one
 * height, one alias threshold, one alias target, the tail's start — each fail the check.
 */
class ZigguratTablesTest {
    private static final MathContext MC = new MathContext(60, RoundingMode.HALF_EVEN);
    private static final BigDecimal TWO = BigDecimal.valueOf(2);
    private static final BigDecimal PI = pi();
    private static final BigDecimal SQRT_PI = PI.sqrt(MC);
    private static final BigDecimal MASS = PI.divide(TWO, MC).sqrt(MC); // √(π/2)
    private static final BigDecimal SLOT = MASS.divide(BigDecimal.valueOf(1024), MC);

    /** π = 16·atan(1/5) − 4·atan(1/239) (Machin). */
    private static BigDecimal pi() {
        return atanInverse(5)
                .multiply(BigDecimal.valueOf(16))
                .subtract(atanInverse(239).multiply(BigDecimal.valueOf(4)), MC);
    }

    private static BigDecimal atanInverse(int n) {
        BigDecimal x = BigDecimal.ONE.divide(BigDecimal.valueOf(n), MC), x2 = x.multiply(x, MC), power = x, sum = x;
        for (int k = 1; power.compareTo(new BigDecimal("1e-70")) > 0; k++) {
            power = power.multiply(x2, MC);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * k + 1), MC);
            sum = k % 2 == 1 ? sum.subtract(term, MC) : sum.add(term, MC);
        }
        return sum;
    }

    /** exp(-x²/2) by the Taylor series of exp(-x²/2^8) raised to the 64th power by squaring. */
    static BigDecimal f(BigDecimal x) {
        BigDecimal s = x.multiply(x, MC).divide(BigDecimal.valueOf(128), MC).negate();
        BigDecimal term = BigDecimal.ONE, sum = BigDecimal.ONE;
        for (int k = 1; term.abs().compareTo(new BigDecimal("1e-75")) > 0; k++) {
            term = term.multiply(s, MC).divide(BigDecimal.valueOf(k), MC);
            sum = sum.add(term, MC);
        }
        for (int i = 0; i < 6; i++) sum = sum.multiply(sum, MC);
        return sum;
    }

    /** ∫_0^x exp(-t²/2) dt = √(π/2)·erf(x/√2), from the Taylor series of erf. */
    static BigDecimal integral(BigDecimal x) {
        BigDecimal z = x.divide(TWO.sqrt(MC), MC), z2 = z.multiply(z, MC), power = z, sum = z;
        for (int n = 1; ; n++) {
            power = power.multiply(z2, MC).divide(BigDecimal.valueOf(n), MC).negate();
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(term, MC);
            if (term.abs().compareTo(new BigDecimal("1e-70")) < 0) break;
        }
        BigDecimal erf = sum.multiply(TWO, MC).divide(SQRT_PI, MC);
        return MASS.multiply(erf, MC);
    }

    private static BigDecimal big(double x) {
        return new BigDecimal(x);
    }

    /** The checks' failures (empty if the tables are right) and the total variation bound. */
    record Verdict(List<String> failures, double totalVariation) {}

    static Verdict check(ZigguratTables t) {
        List<String> bad = new ArrayList<>();
        int n = t.rectangles;
        if (t.a.length != n + 1 || t.h.length != n + 2 || t.a[n] != 0 || t.h[0] != 0 || t.h[n + 1] != 1)
            bad.add("table shapes or ends");
        BigDecimal tv = BigDecimal.ZERO;
        for (int j = 0; j < n; j++) {
            if (!(t.a[j] > t.a[j + 1]) || !(t.h[j + 1] > t.h[j])) bad.add("not monotone at " + j);
            BigDecimal area = big(t.a[j]).multiply(big(t.h[j + 1]).subtract(big(t.h[j])), MC);
            BigDecimal areaError = area.subtract(SLOT).abs();
            if (areaError.divide(SLOT, MC).doubleValue() > 1e-12)
                bad.add("rectangle " + j + " area off by "
                        + areaError.divide(SLOT, MC).doubleValue());
            // The top-right corner on the curve: the rectangle under it, up to the height's rounding
            // (Math.exp, within 4 ulps); any part above the curve counts in the total variation bound.
            BigDecimal curve = f(big(t.a[j]));
            BigDecimal above = big(t.h[j + 1]).subtract(curve);
            if (above.abs().divide(curve, MC).doubleValue() > 0x1p-50)
                bad.add("rectangle " + j + " top off the curve by "
                        + above.divide(curve, MC).doubleValue());
            tv = tv.add(areaError, MC).add(big(t.a[j]).multiply(above.max(BigDecimal.ZERO), MC), MC);
            if (t.scale[j] != Math.scalb(t.a[j], -53)) bad.add("scale " + j);
        }
        for (int k = n; k < ZigguratTables.SLOTS; k++)
            if (!Double.isNaN(t.scale[k])) bad.add("scale " + k + " not NaN");
        // The residual pieces' exact areas: the tail, then the box [a_p, a_{p-1}] × [h_p, h_{p+1}] under the curve.
        BigDecimal[] mass = new BigDecimal[n + 1];
        mass[0] = MASS.subtract(integral(big(t.a[0])), MC);
        BigDecimal total = mass[0];
        for (int p = 1; p <= n; p++) {
            BigDecimal lo = big(t.a[p]), hi = big(t.a[p - 1]);
            mass[p] = integral(hi)
                    .subtract(integral(lo), MC)
                    .subtract(hi.subtract(lo).multiply(big(t.h[p]), MC), MC);
            total = total.add(mass[p], MC);
        }
        BigDecimal residualShare = BigDecimal.valueOf(ZigguratTables.SLOTS - n).multiply(SLOT, MC);
        tv = tv.add(total.subtract(residualShare).abs(), MC);
        // What the alias table gives each piece, exactly, against its share of the residual.
        BigDecimal[] given = new BigDecimal[ZigguratTables.SLOTS];
        for (int c = 0; c < given.length; c++) given[c] = BigDecimal.ZERO;
        BigDecimal one = BigDecimal.valueOf(1L << 43);
        for (int c = 0; c < ZigguratTables.SLOTS; c++) {
            BigDecimal keep = BigDecimal.valueOf(t.keep[c]).divide(one, MC);
            given[c] = given[c].add(keep, MC);
            given[t.alias[c]] = given[t.alias[c]].add(BigDecimal.ONE.subtract(keep), MC);
        }
        BigDecimal aliasError = BigDecimal.ZERO;
        for (int p = 0; p < ZigguratTables.SLOTS; p++) {
            BigDecimal share = given[p].divide(BigDecimal.valueOf(ZigguratTables.SLOTS), MC);
            BigDecimal exact = p <= n ? mass[p].divide(total, MC) : BigDecimal.ZERO;
            aliasError = aliasError.add(share.subtract(exact).abs(), MC);
        }
        if (aliasError.doubleValue() > 1e-11) bad.add("alias shares off by " + aliasError.doubleValue());
        tv = tv.divide(MASS, MC).add(aliasError.multiply(residualShare, MC).divide(MASS, MC), MC);
        if (tv.doubleValue() > 1e-11) bad.add("total variation bound " + tv.doubleValue());
        return new Verdict(bad, tv.doubleValue());
    }

    @Test
    void theTablesAreExact() {
        ZigguratTables t = ZigguratTables.EXACT;
        Verdict v = check(t);
        assertTrue(v.failures().isEmpty(), v.failures().toString());
        assertEquals(1021, t.rectangles, "rectangles of area √(π/2)/1024 that fit");
        assertTrue(v.totalVariation() < 1e-11, "total variation bound " + v.totalVariation());
        System.out.println("ziggurat tables: total variation bound " + v.totalVariation());
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

    static Stream<Arguments> defects() {
        ZigguratTables e = ZigguratTables.EXACT;
        return Stream.of(
                Arguments.of("width 500 × (1 + 1e-10)", (Consumer<double[][]>) ah -> ah[0][500] *= 1 + 1e-10),
                Arguments.of("height 700 × (1 + 1e-12)", (Consumer<double[][]>) ah -> ah[1][700] *= 1 + 1e-12),
                Arguments.of("the tail's start a_0 × (1 + 1e-9)", (Consumer<double[][]>) ah -> ah[0][0] *= 1 + 1e-9),
                Arguments.of(
                        "cap height × (1 − 1e-12)", (Consumer<double[][]>) ah -> ah[1][e.rectangles] *= 1 - 1e-12));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("defects")
    void aWrongTableEntryFails(String what, Consumer<double[][]> plant) {
        ZigguratTables e = ZigguratTables.EXACT;
        double[][] ah = {e.a.clone(), e.h.clone()};
        plant.accept(ah);
        Verdict v = check(new ZigguratTables(ah[0], ah[1], e.cum));
        assertFalse(v.failures().isEmpty(), what + " went unseen");
    }

    @Test
    void aWrongAliasEntryFails() {
        ZigguratTables e = ZigguratTables.EXACT;
        ZigguratTables threshold = new ZigguratTables(e.a, e.h, e.cum);
        threshold.keep[5] += 1L << 20; // 1.2e-7 of one column
        assertFalse(check(threshold).failures().isEmpty(), "an alias threshold off by 2^-23 went unseen");
        ZigguratTables target = new ZigguratTables(e.a, e.h, e.cum);
        int c = 0;
        while (target.keep[c] == 1L << 43) c++;
        target.alias[c] = target.alias[c] + 1;
        assertFalse(check(target).failures().isEmpty(), "a wrong alias target went unseen");
    }
}
