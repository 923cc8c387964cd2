package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RDP of one sampled-Gaussian step against the numerical integral of its definition. */
class RdpSampledGaussianTest {

    static Stream<Arguments> fractionalCases() {
        List<Arguments> out = new ArrayList<>();
        // Includes the regimes where dp_accounting's unsigned series is far off or does not converge.
        double[][] cases = {
            {0.5, 1.0, 2.5}, {0.5, 2.0, 4.4}, {0.3, 10.0, 1.1}, {0.1, 0.5, 1.1}, {0.9, 2.0, 3.5},
            {0.5, 0.8, 5.5}, {0.01, 1.0, 8.1}, {0.001, 0.5, 4.4}, {0.25, 1.0, 6.5}, {0.99, 3.0, 1.7},
            {0.004, 1.1, 8.1}, {0.05, 5.0, 1.3}, {0.2, 1.5, 10.9}, {0.7, 10.0, 1.9}
        };
        for (double[] c : cases) out.add(Arguments.of(c[0], c[1], c[2]));
        SplittableRandom rnd = new SplittableRandom(20261123);
        for (int i = 0; i < 16; i++) {
            double q = Math.exp(Math.log(0.001) + rnd.nextDouble() * (Math.log(0.99) - Math.log(0.001)));
            double sigma = 0.5 + rnd.nextDouble() * 9.5;
            double alpha = 1.1 + Math.floor(rnd.nextDouble() * 200) / 10;
            if (alpha == Math.rint(alpha)) alpha += 0.05;
            out.add(Arguments.of(q, sigma, alpha));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "q={0} σ={1} α={2}")
    @MethodSource("fractionalCases")
    void fractionalOrdersMatchTheIntegralOfTheDefinition(double q, double sigma, double alpha) {
        double series = RdpSampledGaussian.logAFractional(q, sigma, alpha);
        double integral = RdpIntegral.logA(q, sigma, alpha);
        assertEquals(integral, series, 1e-10 + 1e-8 * Math.abs(integral), "log A_α");
    }

    @ParameterizedTest(name = "q={0} σ={1} α={2}")
    @MethodSource("integerCases")
    void integerOrdersMatchTheIntegralOfTheDefinition(double q, double sigma, int alpha) {
        double sum = RdpSampledGaussian.logAInteger(q, sigma, alpha);
        double integral = RdpIntegral.logA(q, sigma, alpha);
        assertEquals(integral, sum, 1e-10 + 1e-8 * Math.abs(integral), "log A_α");
    }

    static Stream<Arguments> integerCases() {
        return Stream.of(
                Arguments.of(0.01, 1.0, 2),
                Arguments.of(0.5, 1.0, 8),
                Arguments.of(0.1, 0.5, 32),
                Arguments.of(0.001, 4.0, 63),
                Arguments.of(0.9, 2.0, 3),
                Arguments.of(0.01, 1.1, 256));
    }

    @Test
    void fullSamplingIsTheGaussianClosedForm() {
        for (double alpha : new double[] {1.5, 2, 7.3, 1024}) {
            assertEquals(alpha / (2 * 1.7 * 1.7), RdpSampledGaussian.rdp(1.0, 1.7, alpha), 1e-15);
        }
    }

    @Test
    void integerAndFractionalFormulasAgreeAcrossAnInteger() {
        // RDP is continuous in α: the fractional series just off an integer must meet the binomial sum.
        for (double[] c : new double[][] {{0.01, 1.0}, {0.3, 2.0}, {0.5, 0.8}}) {
            for (int a : new int[] {2, 5, 17}) {
                double atInt = RdpSampledGaussian.rdp(c[0], c[1], a);
                double near = RdpSampledGaussian.rdp(c[0], c[1], a + 1e-7);
                assertEquals(atInt, near, 1e-5 * atInt + 1e-12, "q=" + c[0] + " σ=" + c[1] + " α=" + a);
            }
        }
    }

    @Test
    void rdpIsNonDecreasingInTheOrder() {
        double previous = 0;
        for (double a : RdpOrders.defaults()) {
            double r = RdpSampledGaussian.rdp(0.02, 0.9, a);
            assertTrue(r >= previous * (1 - 1e-12), "RDP must not decrease with α (α=" + a + ")");
            previous = r;
        }
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> RdpSampledGaussian.rdp(0, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> RdpSampledGaussian.rdp(1.5, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> RdpSampledGaussian.rdp(0.1, 0, 2));
        assertThrows(IllegalArgumentException.class, () -> RdpSampledGaussian.rdp(0.1, 1, 1));
    }
}
