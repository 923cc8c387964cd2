package org.dpsgd.accounting;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Calibration round trips against dp_accounting's calibrate_dp_mechanism (reference_calibration.csv). */
class NoiseCalibrationTest {

    static Stream<ReferenceTables.Row> rows() {
        return ReferenceTables.read("reference_calibration.csv").stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void matchesDpAccountingAndMeetsTheTarget(ReferenceTables.Row row) {
        double target = row.d("target_epsilon");
        double delta = row.d("delta");
        double q = row.d("q");
        long steps = row.l("steps");
        AccountantKind accountant = AccountantKind.parse("accountant", row.s("accountant"));
        NoiseCalibration.Result r = NoiseCalibration.calibrate(target, delta, q, steps, accountant);
        assertEquals(row.d("sigma"), r.noiseMultiplier(), 0.005 * row.d("sigma"), "σ within 0.5% of dp_accounting");
        double eps = Accountants.epsilon(q, r.noiseMultiplier(), steps, delta, accountant);
        assertEquals(eps, r.epsilon(), 0);
        assertTrue(eps <= target, "ε(σ_cal) = " + eps + " exceeds the target " + target);
        // Minimal: a little less noise would break the target.
        double below = r.noiseMultiplier() * (1 - 2 * NoiseCalibration.RELATIVE_TOLERANCE);
        assertTrue(Accountants.epsilon(q, below, steps, delta, accountant) > target, "σ is not the smallest");
    }

    @Test
    void rejectsNonsense() {
        assertThrows(
                IllegalArgumentException.class,
                () -> NoiseCalibration.calibrate(0, 1e-5, 0.01, 100, AccountantKind.RDP));
        assertThrows(
                IllegalArgumentException.class, () -> NoiseCalibration.calibrate(1, 0, 0.01, 100, AccountantKind.RDP));
        assertThrows(
                IllegalArgumentException.class, () -> NoiseCalibration.calibrate(1, 1e-5, 0, 100, AccountantKind.RDP));
        assertThrows(
                IllegalArgumentException.class, () -> NoiseCalibration.calibrate(1, 1e-5, 0.01, 0, AccountantKind.RDP));
    }
}
