package org.dpsgd.noise;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * Computes the secure noise's ziggurat tables in 70-digit arithmetic and writes them, correctly
 * rounded, as {@code ZigguratTableData} (main tree). Self-contained (JDK only, no project class),
 * so it compiles and runs before the data exists:
 *
 * <pre>
 * javac -d /tmp/zg common/src/test/java/org/dpsgd/noise/ZigguratTableGenerator.java
 * java -cp /tmp/zg org.dpsgd.noise.ZigguratTableGenerator common/src/main/java/org/dpsgd/noise/ZigguratTableData.java
 * </pre>
 *
 * <p>The construction, every step exact to ~65 digits before the one rounding to double:
 *
 * <ol>
 *   <li>The ideal ziggurat: h_0 = 0; a_j is the root on the decreasing branch of x·(f(x) − h_j) =
 *       M/1024 (f(x) = exp(−x²/2), M = √(π/2)), h_{j+1} = f(a_j); the stack stops at the first
 *       h_N above which no rectangle of that area fits (the peak of x·(f(x) − h_N) is below it).
 *   <li>Heights: ĥ_j = the double nearest h_j; ĥ_{N+1} = 1.
 *   <li>Widths: â_j = the double nearest (M/1024)/(ĥ_{j+1} − ĥ_j), so the rectangle the sampler
 *       actually uses, [0, â_j] × [ĥ_j, ĥ_{j+1}], has area M/1024 within half an ulp of â_j
 *       (2^-53 relative). (Rounding the ideal a_j instead would leave the heights' rounding in the
 *       areas: up to 9e-14 relative, total variation 9e-15 instead of 6e-17.) â_N = 0.
 *   <li>The residual pieces as the sampler defines them from the stored doubles: the tail beyond
 *       â_0, and for p = 1..N the part under the curve of the box [â_p, â_{p−1}] × [ĥ_p, ĥ_{p+1}];
 *       their exact areas (erf series) and shares of their total.
 *   <li>The alias table in integers: each piece gets round(share·2^53) units of 2^-53 (largest
 *       remainders, so they add up to 2^53 = 1,024 columns × 2^43 exactly), then Vose's
 *       construction in exact integer arithmetic gives keep (43-bit thresholds) and alias.
 * </ol>
 *
 * {@code ZigguratTablesTest} recomputes all of this and requires the stored tables to be exactly
 * its result.
 */
final class ZigguratTableGenerator {
    static final MathContext MC = new MathContext(70, RoundingMode.HALF_EVEN);
    static final int SLOTS = 1024;
    static final BigDecimal TWO = BigDecimal.valueOf(2);
    private static final BigDecimal SERIES_END = new BigDecimal("1e-80"); // before PI: pi() uses it
    static final BigDecimal PI = pi();
    static final BigDecimal SQRT_PI = PI.sqrt(MC);
    /** √(π/2), the area under f over [0, ∞). */
    static final BigDecimal MASS = PI.divide(TWO, MC).sqrt(MC);
    /** M/1024, one slot's share of the area. */
    static final BigDecimal SLOT = MASS.divide(BigDecimal.valueOf(SLOTS), MC);
    /** The alias table's units: 2^43 per column, 2^53 in all. */
    static final long COLUMN = 1L << 43;

    private ZigguratTableGenerator() {}

    /** π = 16·atan(1/5) − 4·atan(1/239) (Machin). */
    private static BigDecimal pi() {
        return atanInverse(5)
                .multiply(BigDecimal.valueOf(16))
                .subtract(atanInverse(239).multiply(BigDecimal.valueOf(4)), MC);
    }

    private static BigDecimal atanInverse(int n) {
        BigDecimal x = BigDecimal.ONE.divide(BigDecimal.valueOf(n), MC), x2 = x.multiply(x, MC), power = x, sum = x;
        for (int k = 1; power.compareTo(SERIES_END) > 0; k++) {
            power = power.multiply(x2, MC);
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * k + 1), MC);
            sum = k % 2 == 1 ? sum.subtract(term, MC) : sum.add(term, MC);
        }
        return sum;
    }

    /** exp(−x²/2) by the Taylor series of exp(−x²/2^7) raised to the 64th power by squaring. */
    static BigDecimal f(BigDecimal x) {
        BigDecimal s = x.multiply(x, MC).divide(BigDecimal.valueOf(128), MC).negate();
        BigDecimal term = BigDecimal.ONE, sum = BigDecimal.ONE;
        for (int k = 1; term.abs().compareTo(SERIES_END) > 0; k++) {
            term = term.multiply(s, MC).divide(BigDecimal.valueOf(k), MC);
            sum = sum.add(term, MC);
        }
        for (int i = 0; i < 6; i++) sum = sum.multiply(sum, MC);
        return sum;
    }

    /** ∫_0^x exp(−t²/2) dt = √(π/2)·erf(x/√2), from the Taylor series of erf. */
    static BigDecimal integral(BigDecimal x) {
        BigDecimal z = x.divide(TWO.sqrt(MC), MC), z2 = z.multiply(z, MC), power = z, sum = z;
        for (int n = 1; ; n++) {
            power = power.multiply(z2, MC).divide(BigDecimal.valueOf(n), MC).negate();
            BigDecimal term = power.divide(BigDecimal.valueOf(2L * n + 1), MC);
            sum = sum.add(term, MC);
            if (term.abs().compareTo(SERIES_END) < 0) break;
        }
        return MASS.multiply(sum.multiply(TWO, MC).divide(SQRT_PI, MC), MC);
    }

    /** The ideal ziggurat: widths a_0..a_{N−1} and heights h_0..h_N (h_0 = 0), to ~65 digits. */
    record Ideal(BigDecimal[] a, BigDecimal[] h) {
        int rectangles() {
            return a.length;
        }
    }

    static Ideal ideal() {
        List<BigDecimal> a = new ArrayList<>(), h = new ArrayList<>();
        h.add(BigDecimal.ZERO);
        while (true) {
            BigDecimal bottom = h.get(h.size() - 1);
            double b = bottom.doubleValue();
            // g(x) = x·(f(x) − bottom) rises from 0 to its peak, where f(x)·(1 − x²) = bottom (below
            // x = 1), and falls back to 0 where f(x) = bottom; the rectangle is the root on the way down.
            double peakStart = bisect(0, 1, x -> Math.exp(-0.5 * x * x) * (1 - x * x) - b);
            BigDecimal peak = newton(
                    peakStart,
                    x -> f(x).multiply(BigDecimal.ONE.subtract(x.multiply(x, MC)), MC)
                            .subtract(bottom, MC),
                    x -> f(x).multiply(x, MC)
                            .multiply(BigDecimal.valueOf(3).subtract(x.multiply(x, MC)), MC)
                            .negate());
            BigDecimal best = peak.multiply(f(peak).subtract(bottom, MC), MC);
            if (best.subtract(SLOT).abs().compareTo(SLOT.movePointLeft(40)) < 0)
                throw new IllegalStateException("whether rectangle " + a.size() + " fits is undecided at 70 digits");
            if (best.compareTo(SLOT) < 0) break;
            double right = b == 0 ? 40 : Math.sqrt(-2 * Math.log(b));
            double area = SLOT.doubleValue();
            double start = bisect(peakStart, right, x -> x * (Math.exp(-0.5 * x * x) - b) - area);
            Function<BigDecimal, BigDecimal> g =
                    x -> x.multiply(f(x).subtract(bottom, MC), MC).subtract(SLOT, MC);
            BigDecimal root = newton(
                    start,
                    g,
                    x -> f(x).multiply(BigDecimal.ONE.subtract(x.multiply(x, MC)), MC)
                            .subtract(bottom, MC));
            // The root on the falling branch: g changes from + to − across it.
            BigDecimal eps = root.movePointLeft(60);
            if (root.compareTo(peak) <= 0
                    || g.apply(root.subtract(eps)).signum() <= 0
                    || g.apply(root.add(eps)).signum() >= 0)
                throw new IllegalStateException("rectangle " + a.size() + ": no bracketed root at " + root);
            a.add(root);
            h.add(f(root));
        }
        return new Ideal(a.toArray(new BigDecimal[0]), h.toArray(new BigDecimal[0]));
    }

    /** Newton's method from a double start to 66 digits (the start is within ~1e-12, so 4–5 steps). */
    private static BigDecimal newton(
            double start, Function<BigDecimal, BigDecimal> g, Function<BigDecimal, BigDecimal> slope) {
        BigDecimal x = new BigDecimal(start);
        for (int i = 0; i < 40; i++) {
            BigDecimal step = g.apply(x).divide(slope.apply(x), MC);
            x = x.subtract(step, MC);
            if (step.abs().compareTo(x.abs().movePointLeft(66)) <= 0) return x;
        }
        throw new IllegalStateException("Newton's method did not converge from " + start);
    }

    /** Where g changes sign in [lo, hi], in double. */
    private static double bisect(double lo, double hi, java.util.function.DoubleUnaryOperator g) {
        boolean rising = g.applyAsDouble(lo) < g.applyAsDouble(hi);
        while (true) {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) return lo;
            if ((g.applyAsDouble(mid) < 0) == rising) lo = mid;
            else hi = mid;
        }
    }

    /** The double nearest x (ties to even), decided exactly against both neighbours. */
    static double nearest(BigDecimal x) {
        double d = x.doubleValue();
        for (int i = 0; i < 4; i++) {
            BigDecimal err = x.subtract(new BigDecimal(d)).abs();
            double up = Math.nextUp(d), down = Math.nextDown(d);
            if (x.subtract(new BigDecimal(up)).abs().compareTo(err) < 0) d = up;
            else if (x.subtract(new BigDecimal(down)).abs().compareTo(err) < 0) d = down;
            else return d;
        }
        throw new IllegalStateException("no nearest double to " + x);
    }

    /** ĥ_0..ĥ_{N+1}: the ideal heights correctly rounded, and the cap's top 1. */
    static double[] heights(Ideal ideal) {
        int n = ideal.rectangles();
        double[] h = new double[n + 2];
        for (int j = 0; j <= n; j++) h[j] = nearest(ideal.h()[j]);
        h[n + 1] = 1;
        return h;
    }

    /** The exact width that gives the strip [lo, hi] one slot's area. */
    static BigDecimal width(double lo, double hi) {
        return SLOT.divide(new BigDecimal(hi).subtract(new BigDecimal(lo)), MC);
    }

    /** â_0..â_N over the stored heights: each the correctly rounded width of one slot's area; â_N = 0. */
    static double[] widths(double[] h) {
        int n = h.length - 2;
        double[] a = new double[n + 1];
        for (int j = 0; j < n; j++) a[j] = nearest(width(h[j], h[j + 1]));
        return a;
    }

    /**
     * The residual pieces' exact areas over the stored doubles: piece 0 the tail beyond a[0], piece p
     * in 1..N the box [a[p], a[p−1]] × [h[p], h[p+1]] under the curve (the corners are on the curve
     * to ~1e-13, so the curve crosses each box from its top-left to its bottom-right corner; what
     * that leaves out is second order, ~1e-27, and counted in the test's total-variation bound).
     */
    static BigDecimal[] pieceAreas(double[] a, double[] h) {
        int n = a.length - 1;
        BigDecimal[] area = new BigDecimal[n + 1];
        BigDecimal[] at = new BigDecimal[n + 1];
        for (int j = 0; j <= n; j++) at[j] = a[j] == 0 ? BigDecimal.ZERO : integral(new BigDecimal(a[j]));
        area[0] = MASS.subtract(at[0], MC);
        for (int p = 1; p <= n; p++) {
            BigDecimal boxWidth = new BigDecimal(a[p - 1]).subtract(new BigDecimal(a[p]));
            area[p] = at[p - 1].subtract(at[p], MC).subtract(boxWidth.multiply(new BigDecimal(h[p]), MC), MC);
        }
        return area;
    }

    /** The alias table: keep[c] (of 2^43) and alias[c] for every column. */
    record Alias(long[] keep, int[] alias) {}

    /** Each piece's units of 2^-53 (round(share·2^53) by largest remainders; they add up to 2^53), columns past the pieces 0. */
    static long[] units(BigDecimal[] area) {
        BigDecimal total = BigDecimal.ZERO;
        for (BigDecimal x : area) total = total.add(x, MC);
        BigDecimal all = new BigDecimal(BigInteger.ONE.shiftLeft(53));
        long[] units = new long[SLOTS];
        BigDecimal[] fraction = new BigDecimal[SLOTS];
        long sum = 0;
        for (int p = 0; p < SLOTS; p++) {
            BigDecimal exact = p < area.length ? area[p].divide(total, MC).multiply(all, MC) : BigDecimal.ZERO;
            BigDecimal floor = exact.setScale(0, RoundingMode.FLOOR);
            units[p] = floor.longValueExact();
            fraction[p] = exact.subtract(floor);
            sum += units[p];
        }
        Integer[] order = new Integer[SLOTS];
        for (int p = 0; p < SLOTS; p++) order[p] = p;
        Arrays.sort(order, Comparator.comparing((Integer p) -> fraction[p]).reversed());
        for (int i = 0; sum < COLUMN * SLOTS; i++, sum++) units[order[i]]++;
        return units;
    }

    /** Vose's alias construction in exact integer arithmetic (a stack of small and of large columns). */
    static Alias alias(long[] units) {
        long[] w = units.clone(), keep = new long[SLOTS];
        int[] alias = new int[SLOTS];
        ArrayDeque<Integer> small = new ArrayDeque<>(), large = new ArrayDeque<>();
        for (int c = 0; c < SLOTS; c++) (w[c] < COLUMN ? small : large).push(c);
        while (!small.isEmpty() && !large.isEmpty()) {
            int s = small.pop(), l = large.pop();
            keep[s] = w[s];
            alias[s] = l;
            w[l] -= COLUMN - w[s];
            (w[l] < COLUMN ? small : large).push(l);
        }
        // The units add up to 2^43 per column, so what is left is large columns of exactly 2^43.
        if (!small.isEmpty()) throw new IllegalStateException("alias: units do not add up");
        for (int c : large) {
            if (w[c] != COLUMN) throw new IllegalStateException("alias: column " + c + " left with " + w[c]);
            keep[c] = COLUMN;
            alias[c] = c;
        }
        return new Alias(keep, alias);
    }

    /** The tables: widths, heights, keep, alias, from the construction above. */
    record Tables(double[] a, double[] h, long[] keep, int[] alias) {}

    static Tables tables(Ideal ideal) {
        double[] h = heights(ideal);
        double[] a = widths(h);
        Alias al = alias(units(pieceAreas(a, h)));
        return new Tables(a, h, al.keep(), al.alias());
    }

    /** The source of ZigguratTableData, formatted as the build's formatter leaves it. */
    static String source(Tables t) {
        StringBuilder s = new StringBuilder();
        s.append("package org.dpsgd.noise;\n\n");
        s.append("/**\n");
        s.append(" * GENERATED by {@code ZigguratTableGenerator} (test tree) — do not edit: the secure noise's\n");
        s.append(" * ziggurat tables, each double the correctly rounded value of its 70-digit construction (see the\n");
        s.append(
                " * generator). {@code ZigguratTablesTest} recomputes every entry and requires exactly these values.\n");
        s.append(" */\n");
        s.append("final class ZigguratTableData {\n");
        s.append("    /** a_0..a_N: rectangle j's width (N = ")
                .append(t.a().length - 1)
                .append("); a_N = 0. */\n");
        array(s, "double[] WIDTH", t.a().length, 4, i -> Double.toHexString(t.a()[i]));
        s.append(
                "\n    /** h_0..h_{N+1}: rectangle j spans [h_j, h_{j+1}]; h_0 = 0, h_{N+1} = 1 (the cap's top). */\n");
        array(s, "double[] HEIGHT", t.h().length, 4, i -> Double.toHexString(t.h()[i]));
        s.append("\n    /** Alias column c keeps its own piece if its 43-bit draw is below KEEP[c]. */\n");
        array(s, "long[] KEEP", SLOTS, 6, i -> t.keep()[i] + "L");
        s.append("\n    /** Alias column c's other piece. */\n");
        array(s, "int[] ALIAS", SLOTS, 16, i -> Integer.toString(t.alias()[i]));
        s.append("\n    private ZigguratTableData() {}\n}\n");
        return s.toString();
    }

    private static void array(
            StringBuilder s, String type, int len, int perLine, java.util.function.IntFunction<String> item) {
        s.append("    static final ").append(type).append(" = {\n");
        for (int i = 0; i < len; i += perLine) {
            s.append("       ");
            for (int k = i; k < Math.min(len, i + perLine); k++)
                s.append(' ').append(item.apply(k)).append(k + 1 < len ? "," : "");
            s.append('\n');
        }
        s.append("    };\n");
    }

    /** Writes ZigguratTableData's source to the path given (stdout without one). */
    public static void main(String[] args) throws IOException {
        long t0 = System.nanoTime();
        Ideal ideal = ideal();
        String src = source(tables(ideal));
        if (args.length == 0) System.out.print(src);
        else Files.writeString(Path.of(args[0]), src, StandardCharsets.UTF_8);
        System.err.printf("N = %d rectangles, %.1f s%n", ideal.rectangles(), (System.nanoTime() - t0) / 1e9);
    }
}
