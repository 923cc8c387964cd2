package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.backend.DeviceBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one-copy hand-off of a batch to PyTorch: the array holds exactly the batch's inputs with
 * padding slots zeroed (checked against a copy made here element by element), in float32 and
 * float64, for sub-ranges of slots; a buffer is reused only after its array is closed, so an open
 * array never sees a later batch's values.
 */
class HostStagingTest {
    private static final org.dpsgd.model.Shape SHAPE = new org.dpsgd.model.Shape(3, 5, 4);

    private static NDManager manager() {
        TestSupport.backend(); // engine set up as in every other test of this module
        return NDManager.newBaseManager(Device.cpu(), "PyTorch");
    }

    private static DeviceBatch batch(long seed, int slots, int copies, int... padded) {
        DeviceBatch b = new DeviceBatch(SHAPE, slots, copies);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < b.inputs().length; i++) b.inputs()[i] = (float) TestSupport.gaussian(r);
        for (int s = 0; s < slots; s++) b.mask()[s] = 1f;
        for (int p : padded) {
            b.mask()[p] = 0f;
            b.inputs()[b.inputOffset(p, 0)] = Float.NaN;
            b.inputs()[b.inputOffset(p, copies - 1) + 1] = Float.POSITIVE_INFINITY;
        }
        return b;
    }

    /** What the device must see: slots [from, from+count), padding as zeros, widened to double. */
    private static double[] expected(DeviceBatch b, int from, int count) {
        int per = b.multiplicity() * SHAPE.size();
        double[] out = new double[count * per];
        for (int i = 0; i < count; i++)
            for (int j = 0; j < per; j++)
                out[i * per + j] = b.mask()[from + i] == 0f ? 0.0 : b.inputs()[b.inputOffset(from + i, 0) + j];
        return out;
    }

    private static double[] values(NDArray x) {
        return x.toType(DataType.FLOAT64, false).toDoubleArray();
    }

    @ParameterizedTest
    @ValueSource(strings = {"float32", "float64"})
    void holdsTheBatchWithPaddingZeroed(String dtype) {
        DataType type = dtype.equals("float32") ? DataType.FLOAT32 : DataType.FLOAT64;
        HostStaging staging = new HostStaging();
        try (NDManager m = manager()) {
            DeviceBatch b = batch(3, 7, 2, 1, 6);
            int[][] ranges = {{0, 7}, {1, 1}, {2, 3}, {6, 1}, {0, 2}};
            for (int[] r : ranges) {
                try (NDArray x = staging.inputs(m, type, b, r[0], r[1])) {
                    assertEquals(type, x.getDataType());
                    assertEquals(new Shape(r[1] * 2L, 3, 5, 4), x.getShape());
                    assertArrayEquals(expected(b, r[0], r[1]), values(x), "slots " + r[0] + "+" + r[1]);
                }
            }
            assertEquals(1, staging.kept(), "closed arrays give their buffer back");
        }
    }

    @Test
    void anOpenArrayNeverSeesALaterBatch() {
        HostStaging staging = new HostStaging();
        try (NDManager m = manager()) {
            List<DeviceBatch> batches = new ArrayList<>();
            List<NDArray> open = new ArrayList<>();
            for (int i = 0; i < HostStaging.KEPT + 3; i++) {
                DeviceBatch b = batch(10 + i, 4, 1, i % 4);
                batches.add(b);
                open.add(staging.inputs(m, DataType.FLOAT32, b, 0, 4));
            }
            for (int i = 0; i < open.size(); i++)
                assertArrayEquals(expected(batches.get(i), 0, 4), values(open.get(i)), "open array " + i);
            assertEquals(HostStaging.KEPT, staging.kept(), "at most KEPT buffers are kept");
            open.forEach(NDArray::close);
            for (int i = 0; i < 5; i++) {
                DeviceBatch b = batch(50 + i, 4, 1);
                try (NDArray x = staging.inputs(m, DataType.FLOAT32, b, 0, 4)) {
                    assertArrayEquals(expected(b, 0, 4), values(x));
                }
            }
            assertEquals(HostStaging.KEPT, staging.kept(), "no new buffers once the old ones are free");
        }
    }
}
