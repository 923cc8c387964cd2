package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link ClippedSums#of}: each coordinate of the one-matmul clipped sum against the exact Σ_i c_i x_i (BigDecimal), within
 * γ(S)·Σ_i c_i|x_i| (docs/core.md "Float margin" item 4's budget for the scaling and the slot sum), on values with
 * cancellation and spread exponents; and each slot's share is its own: a slot with factor 0 changes nothing.
 */
class ClippedSumsTest {
    @ParameterizedTest(name = "S = {0}, shape per slot {1}")
    @CsvSource({"1, 5", "3, 4x3", "64, 32", "64, 32x144", "257, 7x2x3"})
    void matmulSumIsTheFloat64DotOfFactorsAndRows(int slots, String perSlot) {
        String[] dims = perSlot.split("x");
        long[] shape = new long[dims.length + 1];
        shape[0] = slots;
        int n = 1;
        for (int i = 0; i < dims.length; i++) n *= (int) (shape[i + 1] = Long.parseLong(dims[i]));
        SplittableRandom r = new SplittableRandom(31L * slots + n);
        double[] x = new double[slots * n];
        for (int i = 0; i < x.length; i++) x[i] = (r.nextDouble() * 2 - 1) * Math.scalb(1.0, r.nextInt(-30, 30));
        double[] c = new double[slots];
        for (int i = 0; i < slots; i++) c[i] = i % 5 == 3 ? 0.0 : r.nextDouble();
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray xs = m.create(x, new Shape(shape));
            NDArray sum = ClippedSums.of(m.create(c), xs);
            assertEquals(DataType.FLOAT64, sum.getDataType());
            assertEquals(new Shape(n), sum.getShape());
            double[] got = sum.toDoubleArray();
            double gamma = ClipBound.gamma(slots);
            for (int j = 0; j < n; j++) {
                BigDecimal exact = BigDecimal.ZERO;
                double mag = 0;
                for (int i = 0; i < slots; i++) {
                    exact = exact.add(new BigDecimal(c[i]).multiply(new BigDecimal(x[i * n + j])));
                    mag += c[i] * Math.abs(x[i * n + j]);
                }
                double err = new BigDecimal(got[j])
                        .subtract(exact)
                        .abs()
                        .round(MathContext.DECIMAL64)
                        .doubleValue();
                assertTrue(err <= gamma * mag, "coordinate " + j + ": error " + err + " above " + gamma * mag);
            }
            // A slot's own values only reach the sum through its own factor: zeroing the rows of factor-0 slots
            // changes no coordinate (bit for bit).
            double[] y = x.clone();
            for (int i = 0; i < slots; i++) if (c[i] == 0.0) for (int j = 0; j < n; j++) y[i * n + j] = 1e300;
            double[] other =
                    ClippedSums.of(m.create(c), m.create(y, new Shape(shape))).toDoubleArray();
            for (int j = 0; j < n; j++) assertEquals(got[j], other[j], 0.0, "coordinate " + j);
        }
    }

    @org.junit.jupiter.api.Test
    void refusesValuesOfAnotherSlotCount() {
        TestSupport.backend();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray c = m.create(new double[] {1, 1, 1});
            assertThrows(
                    IllegalArgumentException.class,
                    () -> ClippedSums.of(c, m.zeros(new Shape(2, 4), DataType.FLOAT64)));
        }
    }
}
