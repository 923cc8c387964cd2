package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link NativeConvUnfold#unfoldRows} (the ghost path's position-major, weight-order unfold) is value for value the
 * transpose of {@link NativeConvUnfold#unfold}, which {@link NativeConvUnfoldTest} checks against each window's
 * input values computed in Java; and both agree with the definition on one geometry directly. float64 and float32,
 * bit for bit (copies only).
 */
class NativeConvUnfoldRowsTest {
    @ParameterizedTest(name = "S K C p k st pad H W = {0}")
    @CsvSource({
        "3 1 1 4 3 1 1 6 6",
        "2 1 16 5 3 1 1 5 5",
        "2 2 3 4 3 2 1 7 6", // K = 2 copies, stride 2, H ≠ W
        "2 1 3 2 2 2 0 6 6",
        "3 2 2 3 1 2 0 5 5", // strided 1x1 (resnet's downsample)
        "1 1 4 2 5 1 2 4 4",
        "2 1 8 4 3 1 1 1 1", // 1x1 input, 3x3 kernel, padding 1 (resnet18-gn's layer4 at 3x32x32)
        "2 1 8 4 3 2 1 2 2" // stride 2 onto 1x1 (layer4.0.conv1)
    })
    void rowsAreTheUnfoldTransposed(String geometry) {
        NativeConvUnfoldTest.Case t = NativeConvUnfoldTest.parse(geometry);
        TestSupport.backend();
        double[] x = NativeConvUnfoldTest.input(t, new SplittableRandom(geometry.hashCode()));
        int d = t.c() * t.k() * t.k();
        int cols = t.copies() * t.ho() * t.wo();
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            Shape in = new Shape(t.slots() * t.copies(), t.c(), t.h(), t.w());
            for (DataType type : new DataType[] {DataType.FLOAT64, DataType.FLOAT32}) {
                NDArray xs = m.create(x, in).toType(type, false);
                double[] unfold = u.unfold(xs, t.k(), t.st(), t.pad(), t.copies())
                        .toType(DataType.FLOAT64, false)
                        .toDoubleArray();
                NDArray rows = u.unfoldRows(xs, t.k(), t.st(), t.pad(), t.copies());
                assertEquals(new Shape(t.slots(), cols, d), rows.getShape());
                assertEquals(type, rows.getDataType());
                double[] want = new double[unfold.length];
                for (int s = 0; s < t.slots(); s++)
                    for (int r = 0; r < d; r++)
                        for (int col = 0; col < cols; col++)
                            want[(s * cols + col) * d + r] = unfold[(s * d + r) * cols + col];
                assertArrayEquals(want, rows.toType(DataType.FLOAT64, false).toDoubleArray(), 0.0, type + " rows");
                // One window straight from the definition: the last slot, last copy, last position, channel c-1.
                int s = t.slots() - 1;
                int q = t.copies() - 1;
                int y = t.ho() - 1;
                int z = t.wo() - 1;
                for (int i = 0; i < t.k(); i++) {
                    for (int j = 0; j < t.k(); j++) {
                        int col = (q * t.ho() + y) * t.wo() + z;
                        int r = ((t.c() - 1) * t.k() + i) * t.k() + j;
                        double v = t.at(x, s * t.copies() + q, t.c() - 1, y * t.st() + i, z * t.st() + j);
                        double want1 = type == DataType.FLOAT32 ? (float) v : v;
                        assertEquals(want1, want[(s * cols + col) * d + r], 0.0, "window value");
                    }
                }
            }
        }
    }

    /**
     * A view that starts past its storage's first element (slots 2..3 of a batch of 5) unfolds as its own copy,
     * with and without a tap window and padding: as_strided addresses the storage absolutely, so an offset
     * computed from the window alone would read another example's data (padding 0 leaves xp = x, the view).
     */
    @ParameterizedTest(name = "padding {0}, window {1}")
    @CsvSource({"0, 0 3 0 3", "0, 1 2 0 2", "1, 0 3 0 3", "1, 1 1 1 1"})
    void aViewIsUnfoldedFromItsOwnFirstElement(int padding, String window) {
        TestSupport.backend();
        int[] w = java.util.Arrays.stream(window.split(" "))
                .mapToInt(Integer::parseInt)
                .toArray();
        double[] x = new double[5 * 2 * 4 * 4];
        SplittableRandom r = new SplittableRandom(17);
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble(-1, 1);
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NativeConvUnfold u = new NativeConvUnfold(m);
            NDArray all = m.create(x, new Shape(5, 2, 4, 4));
            NDArray view = all.get("2:4");
            double[] want = u.unfoldRows(view.duplicate(), 3, 1, padding, 1, w).toDoubleArray();
            double[] got = u.unfoldRows(view, 3, 1, padding, 1, w).toDoubleArray();
            assertArrayEquals(want, got, 0.0, "the view's unfold is its copy's");
        }
    }
}
