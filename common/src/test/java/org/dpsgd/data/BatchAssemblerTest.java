package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.config.AugmentationConfig;
import org.dpsgd.model.Shape;
import org.dpsgd.plan.DeviceCall;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.testing.SyntheticData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BatchAssemblerTest {
    private static final Shape SHAPE = new Shape(2, 5, 6);

    @Test
    void realSlotsGetTheExamplePaddingGetsZerosAndMaskZero() {
        InMemoryDataset data = SyntheticData.indexed(20, SHAPE, 3);
        DeviceCall call = new StaticShapePlanner(new BatchLayout(3, 2, 1))
                .plan(new int[] {4, 11, 17})
                .calls()
                .get(0);
        DeviceBatch b = new DeviceBatch(SHAPE, 6, 2);
        Arrays.fill(b.inputs(), 99f); // stale data from an earlier call
        Arrays.fill(b.labels(), 7);
        Arrays.fill(b.mask(), 1f);
        try (BatchAssembler a = new BatchAssembler(data, AugmentationConfig.NONE, 1, 2)) {
            a.assemble(call, b, 0);
        }
        int n = SHAPE.size();
        for (int s = 0; s < 6; s++) {
            int id = call.exampleIds()[s];
            for (int c = 0; c < 2; c++) {
                float[] copy = Arrays.copyOfRange(b.inputs(), b.inputOffset(s, c), b.inputOffset(s, c) + n);
                float[] expected = new float[n];
                if (id >= 0) Arrays.fill(expected, id + 1);
                assertArrayEquals(expected, copy, "slot " + s + " copy " + c);
            }
            assertEquals(id >= 0 ? 1f : 0f, b.mask()[s]);
            assertEquals(id >= 0 ? id % 3 : 0, b.labels()[s]);
            assertEquals(id, b.exampleIds()[s]);
        }
        assertEquals(3, b.realCount());
    }

    @Test
    void cropShiftsWithZeroFillAndFlipMirrors() {
        Shape shape = new Shape(1, 4, 5);
        float[] src = new float[20];
        for (int i = 0; i < 20; i++) src[i] = i + 1;
        Augmenter aug = new Augmenter(new AugmentationConfig(2, true, 1), shape);
        boolean sawFlip = false, sawShift = false;
        for (long seed = 0; seed < 60; seed++) {
            float[] out = new float[20];
            aug.apply(src, 0, out, 0, new SplittableRandom(seed));
            // the output must be some (dy, dx, flip) transform with zero fill: find it by brute force
            boolean matched = false;
            for (int dy = -2; dy <= 2 && !matched; dy++) {
                for (int dx = -2; dx <= 2 && !matched; dx++) {
                    for (int f = 0; f < 2 && !matched; f++) {
                        float[] e = new float[20];
                        for (int y = 0; y < 4; y++) {
                            for (int x = 0; x < 5; x++) {
                                int sy = y + dy, sx = (f == 1 ? 4 - x : x) + dx;
                                e[y * 5 + x] = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? src[sy * 5 + sx] : 0f;
                            }
                        }
                        if (Arrays.equals(e, out)) {
                            matched = true;
                            sawFlip |= f == 1;
                            sawShift |= dy != 0 || dx != 0;
                        }
                    }
                }
            }
            assertTrue(matched, "seed " + seed + " produced no crop/flip of the input");
        }
        assertTrue(sawFlip && sawShift, "both flips and shifts occur");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void augmentationDependsOnLogicalPositionNotThreadsOrLayout(int threads) {
        InMemoryDataset data = SyntheticData.blobs(30, SHAPE, 2, 1, 1, 5);
        AugmentationConfig aug = new AugmentationConfig(2, true, 3);
        int[] batch = {1, 2, 5, 8, 13, 21, 29};
        AugmentationSeeds seeded = AugmentationSeeds.seeded(77);
        float[] reference = copiesByPosition(data, aug, new BatchLayout(8, 1, 1), batch, 1, seeded);
        assertArrayEquals(reference, copiesByPosition(data, aug, new BatchLayout(2, 2, 1), batch, threads, seeded));
        assertArrayEquals(reference, copiesByPosition(data, aug, new BatchLayout(1, 1, 3), batch, threads, seeded));
        // The same with a secret key (private runs): layout- and thread-independent too, and not the
        // public seed's augmentation.
        AugmentationSeeds secret = AugmentationSeeds.secret();
        float[] secretRef = copiesByPosition(data, aug, new BatchLayout(8, 1, 1), batch, 1, secret);
        assertArrayEquals(secretRef, copiesByPosition(data, aug, new BatchLayout(2, 2, 1), batch, threads, secret));
        assertArrayEquals(secretRef, copiesByPosition(data, aug, new BatchLayout(1, 1, 3), batch, threads, secret));
        assertNotEquals(Arrays.toString(reference), Arrays.toString(secretRef));
        // K copies of one slot are augmented independently
        int n = SHAPE.size();
        assertNotEquals(
                Arrays.toString(Arrays.copyOfRange(reference, 0, n)),
                Arrays.toString(Arrays.copyOfRange(reference, n, 2 * n)));
    }

    /** The augmented copies laid out by logical position, whatever the device layout. */
    private static float[] copiesByPosition(
            InMemoryDataset data,
            AugmentationConfig aug,
            BatchLayout layout,
            int[] batch,
            int threads,
            AugmentationSeeds seeds) {
        int n = SHAPE.size(), k = aug.multiplicity();
        float[] out = new float[batch.length * k * n];
        DeviceBatch b = new DeviceBatch(SHAPE, layout.slotsPerCall(), k);
        try (BatchAssembler a = new BatchAssembler(data, aug, seeds, threads)) {
            for (DeviceCall call : new StaticShapePlanner(layout).plan(batch).calls()) {
                a.assemble(call, b, 3);
                for (int s = 0; s < call.slots(); s++) {
                    int pos = call.positions()[s];
                    if (pos >= 0) System.arraycopy(b.inputs(), b.inputOffset(s, 0), out, pos * k * n, k * n);
                }
            }
        }
        return out;
    }

    /**
     * A uint8 dataset is cropped while converting (its byte path); the same dataset seen only
     * through {@code read} takes the float path. Both must fill every slot identically, bit for bit:
     * augmented and K = 2, padding, 1 and 3 loader threads.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void bytePathEqualsFloatPath(int threads) {
        Shape shape = new Shape(3, 9, 7);
        int count = 20;
        byte[] px = new byte[count * shape.size()];
        new java.util.Random(4).nextBytes(px);
        int[] labels = new int[count];
        Dataset bytes = new ByteImageDataset(px, labels, shape, 10, Normalization.CIFAR10, "bytes");
        Dataset floats = new Dataset() {
            @Override
            public int size() {
                return bytes.size();
            }

            @Override
            public Shape shape() {
                return shape;
            }

            @Override
            public int numClasses() {
                return 10;
            }

            @Override
            public int label(int index) {
                return bytes.label(index);
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                bytes.read(index, dst, offset);
            }
        };
        AugmentationConfig aug = new AugmentationConfig(3, true, 2);
        DeviceCall call = new DeviceCall(new int[] {4, -1, 0, 19, 7, 7, -1, 12}, new int[] {0, -1, 1, 2, 3, 4, -1, 5});
        try (BatchAssembler viaBytes = new BatchAssembler(new SubsetDataset(bytes, count), aug, 9, threads);
                BatchAssembler viaFloats = new BatchAssembler(floats, aug, 9, threads)) {
            for (long step = 0; step < 4; step++) {
                DeviceBatch a = new DeviceBatch(shape, 8, 2);
                DeviceBatch b = new DeviceBatch(shape, 8, 2);
                Arrays.fill(a.inputs(), Float.NaN);
                viaBytes.assemble(call, a, step);
                viaFloats.assemble(call, b, step);
                assertArrayEquals(b.inputs(), a.inputs(), "step " + step);
                assertArrayEquals(b.mask(), a.mask());
            }
        }
    }

    @Test
    void rejectsMismatchedBatchesAndOversizedCrops() {
        InMemoryDataset data = SyntheticData.indexed(5, SHAPE, 2);
        try (BatchAssembler a = new BatchAssembler(data, AugmentationConfig.NONE, 1, 1)) {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> a.assemblePlain(new int[] {0, 1}, new DeviceBatch(SHAPE, 3, 1)));
            assertThrows(
                    IllegalArgumentException.class,
                    () -> a.assemblePlain(new int[] {0}, new DeviceBatch(new Shape(1, 5, 6), 1, 1)));
        }
        assertThrows(IllegalArgumentException.class, () -> new Augmenter(new AugmentationConfig(5, false, 1), SHAPE));
        assertThrows(
                IllegalArgumentException.class,
                () -> new InMemoryDataset(SHAPE, 2, new float[SHAPE.size()], new int[] {2}, "bad label"));
    }
}
