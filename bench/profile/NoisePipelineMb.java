import java.util.Arrays;
import org.dpsgd.noise.*;

/**
 * Session 7 (branch noise7): the private step's host pass over the float64 sum, three ways in one
 * JVM, alternating round by round on the same secure source and pool:
 *   seq   = session 6's piece loop: per piece, copy into one buffer (the drain's stand-in),
 *           GaussianDraw.addTo (one fork-join over the piece's chunks), a rounding loop on the caller;
 *   par   = PiecewiseNoisySum's loop now: copy into one of two buffers, startAddRounded (chunks noised
 *           and rounded on the pool while the caller copies the next piece);
 *   whole = copy into a full-length double[] + addGaussianRounded (the pre-session-6 pass).
 * Prints each round's times and the medians. Run (single-file source launch, Java 17):
 *   java -Xmx4g -cp "common/target/classes:/tmp/base7/lib/*" bench/profile/NoisePipelineMb.java 11181642 20 2 15
 *   (n coordinates, piece = 2^20, noise threads, rounds)
 */
public class NoisePipelineMb {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]);
        int piece = 1 << Integer.parseInt(a[1]);
        int threads = Integer.parseInt(a[2]);
        int rounds = Integer.parseInt(a[3]);
        NoiseSource s = NoiseSources.create(NoiseMode.SECURE, 0, w -> {}, false, NoisePool.of(threads));
        double[] acc = new double[n];
        for (int i = 0; i < n; i++) acc[i] = i * 1e-7;
        double[] whole = new double[n];
        float[] out = new float[n];
        double[] buf = new double[Math.min(piece, n)];
        PieceBuffers two = new PieceBuffers(Math.min(piece, n));
        double[][] ms = new double[3][rounds];
        double[][] cpu = new double[3][rounds];
        var os = (com.sun.management.OperatingSystemMXBean)
                java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        for (int rep = -3; rep < rounds; rep++) { // 3 warm-up rounds
            long c0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            GaussianDraw d = s.openDraw(n, 1.0);
            for (int off = 0; off < n; off += piece) {
                int len = Math.min(piece, n - off);
                System.arraycopy(acc, off, buf, 0, len);
                d.addTo(buf, 0, off, len);
                for (int k = 0; k < len; k++) out[off + k] = (float) buf[k];
            }
            long t1 = System.nanoTime();
            long c1 = os.getProcessCpuTime();
            GaussianDraw e = s.openDraw(n, 1.0);
            for (int off = 0; off < n; off += piece) {
                int len = Math.min(piece, n - off);
                double[] b = two.next();
                System.arraycopy(acc, off, b, 0, len);
                two.track(e.startAddRounded(b, 0, off, len, out, off));
            }
            two.awaitAll();
            long t2 = System.nanoTime();
            long c2 = os.getProcessCpuTime();
            System.arraycopy(acc, 0, whole, 0, n);
            s.addGaussianRounded(whole, out, 0, n, 1.0);
            long t3 = System.nanoTime();
            long c3 = os.getProcessCpuTime();
            if (rep < 0) continue;
            cpu[0][rep] = (c1 - c0) / 1e6;
            cpu[1][rep] = (c2 - c1) / 1e6;
            cpu[2][rep] = (c3 - c2) / 1e6;
            ms[0][rep] = (t1 - t0) / 1e6;
            ms[1][rep] = (t2 - t1) / 1e6;
            ms[2][rep] = (t3 - t2) / 1e6;
            System.out.printf("seq %.1f  par %.1f  whole %.1f ms%n", ms[0][rep], ms[1][rep], ms[2][rep]);
        }
        System.out.printf(
                "n=%d piece=2^%s threads=%d rounds=%d wall medians: seq %.1f  par %.1f  whole %.1f ms; par/seq per-round median %.3f%n",
                n, a[1], threads, rounds, median(ms[0]), median(ms[1]), median(ms[2]), medianRatio(ms[1], ms[0]));
        System.out.printf(
                "  process CPU medians: seq %.1f  par %.1f  whole %.1f ms; par/seq per-round median %.3f (the OS counts CPU in 10 ms ticks)%n",
                median(cpu[0]), median(cpu[1]), median(cpu[2]), medianRatio(cpu[1], cpu[0]));
    }

    static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int m = s.length;
        return m % 2 == 1 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
    }

    static double medianRatio(double[] num, double[] den) {
        double[] r = new double[num.length];
        for (int i = 0; i < r.length; i++) r[i] = num[i] / den[i];
        return median(r);
    }
}
