package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An RDP value at or below zero (or NaN) is a numerical failure: it must never become ε = 0. */
class RdpNonPositiveTest {
    private static final List<Double> ORDERS = List.of(2.0, 4.0, 8.0, 16.0);

    @ParameterizedTest(name = "rdp = {0}")
    @ValueSource(doubles = {0.0, -0.0, -1e-12, -3.0, Double.NaN, Double.NEGATIVE_INFINITY})
    void aNonPositiveValueAtAnyOrderIsAnError(double bad) {
        for (int at = 0; at < ORDERS.size(); at++) {
            double[] rdp = {0.5, 0.8, 1.2, 2.0};
            rdp[at] = bad;
            IllegalStateException e =
                    assertThrows(IllegalStateException.class, () -> RdpConversion.epsilon(ORDERS, rdp, 1e-5));
            assertTrue(e.getMessage().contains("order " + ORDERS.get(at)), e.getMessage());
        }
    }

    @Test
    void positiveValuesStillConvertAndInfinityOnlyDropsAnOrder() {
        double[] rdp = {0.5, 0.8, Double.POSITIVE_INFINITY, 2.0};
        RdpConversion.EpsilonAndOrder e = RdpConversion.epsilon(ORDERS, rdp, 1e-5);
        double best = Double.POSITIVE_INFINITY;
        double bestOrder = Double.NaN;
        for (int k : new int[] {0, 1, 3}) {
            double a = ORDERS.get(k);
            double eps = rdp[k] + Math.log1p(-1 / a) - (Math.log(1e-5) + Math.log(a)) / (a - 1);
            if (eps < best) {
                best = eps;
                bestOrder = a;
            }
        }
        assertEquals(best, e.epsilon(), 1e-12);
        assertEquals(bestOrder, e.order());
    }

    @Test
    void aTinyPositiveRdpIsNotRoundedToAnError() {
        // δ ≥ sqrt(1 − e^−rdp) certifies ε = 0 legitimately (the total-variation bound): still allowed.
        double[] rdp = {1e-14, 1e-14, 1e-14, 1e-14};
        assertEquals(0.0, RdpConversion.epsilon(ORDERS, rdp, 1e-5).epsilon());
    }

    @Test
    void anEmptyLedgerIsExactlyZeroWithoutAnError() {
        RdpAccountant a = new RdpAccountant();
        assertEquals(0.0, a.epsilon(1e-5));
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(0.01, 1.0), 0));
        assertEquals(0.0, a.epsilon(1e-5));
        assertThrows(IllegalArgumentException.class, () -> a.epsilon(0));
    }

    @Test
    void aComposedStepHasAPositiveEpsilon() {
        RdpAccountant a = new RdpAccountant();
        a.compose(DpEvent.dpSgdStep(0.01, 1.0));
        assertTrue(a.epsilon(1e-5) > 0);
    }
}
