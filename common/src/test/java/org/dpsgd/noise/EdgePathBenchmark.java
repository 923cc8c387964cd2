package org.dpsgd.noise;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import org.dpsgd.sampling.AesCtrStream;

/**
 * Measures the ziggurat's edge path in the production loop (not a test): AES-CTR words, 16,384-
 * coordinate chunks, 11,181,642 coordinates, one thread, thread CPU time, two samplers alternating
 * draw by draw in one JVM so that both see the same load: the keystream as drawn (about 1.2% of
 * coordinates reach the residual) against the same keystream with every residual slot moved onto a
 * rectangle (no residual at all; the same extra pass over the words on both sides). The difference is
 * the most that any cheaper edge path could save. Run: {@code taskset -c 0 java -cp
 * common/target/test-classes:common/target/classes:$CP org.dpsgd.noise.EdgePathBenchmark [rounds] [ghz]}.
 */
public final class EdgePathBenchmark {
    private static final int N = 11_181_642;

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        double ghz = args.length > 1 ? Double.parseDouble(args[1]) : 2.3;
        byte[] key = new byte[32];
        key[3] = 7;
        compare(
                "keystream as drawn vs no edge words",
                new ZigguratBlock(aes(key, 1024), null),
                new ZigguratBlock(aes(key, ZigguratTables.EXACT.rectangles), null),
                rounds,
                ghz);
    }

    private static void compare(String what, ZigguratBlock a, ZigguratBlock b, int rounds, double ghz) {
        float[] v = new float[N];
        var threads = ManagementFactory.getThreadMXBean();
        double[] ca = new double[rounds], cb = new double[rounds], ratio = new double[rounds];
        for (int r = -4; r < rounds; r++) { // four warm-up rounds
            long t0 = threads.getCurrentThreadCpuTime();
            draw(a, v, r);
            long t1 = threads.getCurrentThreadCpuTime();
            draw(b, v, r);
            long t2 = threads.getCurrentThreadCpuTime();
            if (r < 0) continue;
            ca[r] = (t1 - t0) * ghz / N;
            cb[r] = (t2 - t1) * ghz / N;
            ratio[r] = ca[r] / cb[r];
        }
        Arrays.sort(ca);
        Arrays.sort(cb);
        Arrays.sort(ratio);
        System.out.printf(
                "%s: CPU cycles per coordinate %.1f [%.1f, %.1f] vs %.1f [%.1f, %.1f]; per-draw ratio median %.3f [%.3f, %.3f]; load %.1f%n",
                what,
                ca[rounds / 2],
                ca[0],
                ca[rounds - 1],
                cb[rounds / 2],
                cb[0],
                cb[rounds - 1],
                ratio[rounds / 2],
                ratio[0],
                ratio[rounds - 1],
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** One draw as SecureGaussianNoise makes it on one thread: a restarted stream per chunk. */
    private static void draw(ZigguratBlock block, float[] v, int call) {
        int chunk = ChunkedGaussian.CHUNK;
        for (int c = 0, lo = 0; lo < N; c++, lo += chunk)
            block.restart((long) (call + 4) << 32 | c).addSumsOfFour(v, lo, Math.min(N, lo + chunk), 0.5);
    }

    /** AES-CTR words; a slot at or above {@code fastBelow} is moved down by 3 (1024: none is). */
    private static ZigguratBlock.Words aes(byte[] key, int fastBelow) {
        AesCtrStream s = new AesCtrStream(key, 0);
        return new ZigguratBlock.Words() {
            @Override
            public void next(long[] out, int off, int len) {
                s.nextLongs(out, off, len);
                for (int i = off; i < off + len; i++) {
                    long w = out[i];
                    out[i] = ((int) w & 1023) >= fastBelow ? w - 3 : w;
                }
            }

            @Override
            public void restart(long id) {
                s.restart(id);
            }
        };
    }
}
