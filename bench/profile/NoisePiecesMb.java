import org.dpsgd.noise.*;
/**
 * Session 6 (branch mem6): the private step's host pass over the float64 sum, whole vector against
 * pieces. "whole" = copy the drained sum into a full-length double[] + addGaussianRounded (the old
 * path); "pieces" = per piece, copy into a reusable buffer, GaussianDraw.addTo, round into the float
 * gradient (PiecewiseNoisySum's path). Run (single-file source launch, Java 17):
 *   java -Xmx4g -cp "experiments/target/dpsgd-experiments.jar:experiments/target/lib/*" \
 *     bench/profile/NoisePiecesMb.java 11000000 16     # n coordinates, piece = 2^16
 */
public class NoisePiecesMb {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]); int piece = 1 << Integer.parseInt(a[1]);
        NoiseSource s = NoiseSources.create(NoiseMode.SECURE, 0, w -> {}, false, NoisePool.of(2));
        double[] acc = new double[n]; for (int i = 0; i < n; i++) acc[i] = i * 1e-7;
        double[] whole = new double[n]; float[] out = new float[n]; double[] buf = new double[piece];
        for (int rep = 0; rep < 12; rep++) {
            long t0 = System.nanoTime();
            System.arraycopy(acc, 0, whole, 0, n);
            s.addGaussianRounded(whole, out, 0, n, 1.0);
            long t1 = System.nanoTime();
            GaussianDraw d = s.openDraw(n, 1.0);
            for (int off = 0; off < n; off += piece) {
                int len = Math.min(piece, n - off);
                System.arraycopy(acc, off, buf, 0, len);
                d.addTo(buf, 0, off, len);
                for (int k = 0; k < len; k++) out[off + k] = (float) buf[k];
            }
            long t2 = System.nanoTime();
            System.out.printf("whole %.1f ms  pieces %.1f ms%n", (t1 - t0) / 1e6, (t2 - t1) / 1e6);
        }
    }
}
