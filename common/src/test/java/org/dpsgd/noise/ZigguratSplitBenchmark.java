package org.dpsgd.noise;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Measures the sampler without AES (not a test): {@code ZigguratBlock.addSumsOfFour} over
 * pre-made words, scalar loop against the vector kernel, on random words (about 4.6% of
 * coordinates take the edge/tail path) and on words that all take the fast path, so the split
 * between the fast path and the edge/tail path shows. Thread CPU time, median of rounds, cycles at
 * the given GHz. Run: {@code taskset -c 1 java --add-modules jdk.incubator.vector -cp
 * common/target/test-classes:common/target/classes:$RNG org.dpsgd.noise.ZigguratSplitBenchmark [rounds] [ghz]}.
 */
public final class ZigguratSplitBenchmark {
    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        double ghz = args.length > 1 ? Double.parseDouble(args[1]) : 2.3;
        for (boolean allFast : new boolean[] {false, true}) {
            double[] scalar = new double[rounds], vector = new double[rounds];
            ZigguratBlock s = new ZigguratBlock(words(allFast), null);
            ZigguratBlock v = new ZigguratBlock(words(allFast), new VectorFastPath(ZigguratTables.EXACT));
            float[] f = new float[ChunkedGaussian.CHUNK];
            var threads = ManagementFactory.getThreadMXBean();
            for (int r = -3; r < rounds; r++) { // three warm-up rounds
                long t0 = threads.getCurrentThreadCpuTime();
                for (int it = 0; it < 300; it++) s.restart(it).addSumsOfFour(f, 0, f.length, 0.5);
                long t1 = threads.getCurrentThreadCpuTime();
                for (int it = 0; it < 300; it++) v.restart(it).addSumsOfFour(f, 0, f.length, 0.5);
                long t2 = threads.getCurrentThreadCpuTime();
                if (r < 0) continue;
                scalar[r] = (t1 - t0) * ghz / (300.0 * f.length);
                vector[r] = (t2 - t1) * ghz / (300.0 * f.length);
            }
            Arrays.sort(scalar);
            Arrays.sort(vector);
            System.out.printf(
                    "%s words: cycles per coordinate (no AES), median of %d: scalar %.1f [%.1f, %.1f], vector %.1f [%.1f, %.1f]; load %.1f%n",
                    allFast ? "fast-path-only" : "random",
                    rounds,
                    scalar[rounds / 2],
                    scalar[0],
                    scalar[rounds - 1],
                    vector[rounds / 2],
                    vector[0],
                    vector[rounds - 1],
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        }
    }

    /** 64 Ki fixed random words, served in order; allFast: every slot a rectangle. */
    private static ZigguratBlock.Words words(boolean allFast) {
        long[] src = new long[1 << 16];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < src.length; i++)
            src[i] = allFast ? (r.nextLong() & -1024L) | r.nextInt(ZigguratTables.EXACT.rectangles) : r.nextLong();
        return new ZigguratBlock.Words() {
            private int pos;

            @Override
            public void next(long[] out, int off, int len) {
                if (pos + len > src.length) pos = 0;
                System.arraycopy(src, pos, out, off, len);
                pos += len;
            }

            @Override
            public void restart(long id) {
                pos = (int) (id & 0xff) * 8;
            }
        };
    }
}
