package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FftTest {

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {1, 2, 4, 8, 32, 64, 128, 512})
    void matchesTheDefinitionOfTheDft(int n) {
        SplittableRandom rnd = new SplittableRandom(n);
        double[] re = new double[n];
        double[] im = new double[n];
        for (int i = 0; i < n; i++) {
            re[i] = rnd.nextDouble() - 0.5;
            im[i] = rnd.nextDouble() - 0.5;
        }
        double[] fr = re.clone();
        double[] fi = im.clone();
        Fft.forward(fr, fi);
        for (int k = 0; k < n; k++) {
            double sr = 0;
            double si = 0;
            for (int j = 0; j < n; j++) {
                double angle = -2 * Math.PI * ((long) j * k % n) / n;
                sr += re[j] * Math.cos(angle) - im[j] * Math.sin(angle);
                si += re[j] * Math.sin(angle) + im[j] * Math.cos(angle);
            }
            assertEquals(sr, fr[k], 1e-12 * n, "re[" + k + "]");
            assertEquals(si, fi[k], 1e-12 * n, "im[" + k + "]");
        }
        Fft.inverse(fr, fi);
        for (int i = 0; i < n; i++) {
            assertEquals(re[i], fr[i], 1e-14 * n);
            assertEquals(im[i], fi[i], 1e-14 * n);
        }
    }

    @Test
    void rejectsLengthsThatAreNotPowersOfTwo() {
        assertThrows(IllegalArgumentException.class, () -> Fft.forward(new double[6], new double[6]));
        assertEquals(8, Fft.nextPowerOfTwo(5));
        assertEquals(8, Fft.nextPowerOfTwo(8));
    }
}
