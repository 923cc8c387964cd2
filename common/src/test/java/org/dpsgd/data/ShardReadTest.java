package org.dpsgd.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.dpsgd.config.DataConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reading only a byte range of IDX (plain, gzip) and CIFAR-10/100 files: a shard read equals the same
 * examples of a whole read bit for bit, the W shards of {@link Datasets#openShard} are the whole set in
 * order with the global N, and a rank holds only its shard's pixels.
 */
class ShardReadTest {

    @TempDir
    Path dir;

    /** Writes a small training set of the given kind; returns its data config and the labels written. */
    private Written write(String kind, long seed) throws IOException {
        Random r = new Random(seed);
        Path folder = Files.createDirectories(dir.resolve(kind));
        List<Integer> labels = new ArrayList<>();
        switch (kind) {
            case "idx", "idx-gz" -> {
                byte[][] split = IdxDatasetTest.writeSplit(folder, "train", 23, kind.equals("idx-gz"), seed);
                for (byte b : split[1]) labels.add(b & 0xFF);
                return new Written(config("idx", folder, null), labels);
            }
            case "cifar10" -> {
                int[] sizes = {3, 4, 1, 5, 4}; // uneven, so shards cross file boundaries at odd places
                for (int b = 1; b <= 5; b++) {
                    int[] l = r.ints(sizes[b - 1], 0, 10).toArray();
                    for (int x : l) labels.add(x);
                    Files.write(
                            folder.resolve("data_batch_" + b + ".bin"), CifarDatasetTest.records(l.length, 1, l, r));
                }
                return new Written(config("cifar10", folder, null), labels);
            }
            case "cifar100" -> {
                int[] l = r.ints(19, 0, 100).toArray();
                for (int x : l) labels.add(x);
                Files.write(folder.resolve("train.bin"), CifarDatasetTest.records(l.length, 2, l, r));
                return new Written(config("cifar100", folder, null), labels);
            }
            default -> throw new IllegalArgumentException(kind);
        }
    }

    private record Written(DataConfig config, List<Integer> labels) {}

    private static DataConfig config(String format, Path folder, Integer trainLimit) {
        return new DataConfig(format, folder.toString(), trainLimit, null, null, null, null, null);
    }

    private static int[] bits(Dataset d, int i) {
        float[] x = new float[d.shape().size()];
        d.read(i, x, 0);
        int[] b = new int[x.length];
        for (int k = 0; k < x.length; k++) b[k] = Float.floatToRawIntBits(x[k]);
        return b;
    }

    @ParameterizedTest
    @CsvSource({
        "idx, 1",
        "idx, 2",
        "idx, 3",
        "idx, 7",
        "idx-gz, 1",
        "idx-gz, 2",
        "idx-gz, 5",
        "cifar10, 1",
        "cifar10, 2",
        "cifar10, 3",
        "cifar10, 6",
        "cifar100, 1",
        "cifar100, 2",
        "cifar100, 4"
    })
    void shardsAreTheWholeSetInOrderBitForBitAndHoldOnlyTheirPixels(String kind, int ranks) throws IOException {
        Written w = write(kind, 11 + ranks);
        Dataset whole = Datasets.open(w.config(), Split.TRAIN, 0L, msg -> {});
        int n = whole.size();
        assertEquals(w.labels().size(), n);
        int next = 0;
        for (int rank = 0; rank < ranks; rank++) {
            ShardDataset shard = Datasets.openShard(w.config(), 0L, rank, ranks, msg -> {});
            assertEquals(next, shard.offset(), "shards are contiguous and in rank order");
            assertEquals(n, shard.population(), "the global N, from the header / file sizes");
            assertEquals(whole.describe(), shard.source());
            assertTrue(shard.size() == n / ranks || shard.size() == n / ranks + 1, "shard size " + shard.size());
            // Memory: the rank's array holds its shard's pixels, not the whole set's.
            ByteImageDataset held = (ByteImageDataset) shard.base();
            assertEquals(shard.size(), held.size());
            assertEquals((long) shard.size() * whole.shape().size(), held.pixelBytes());
            for (int i = 0; i < shard.size(); i++) {
                int g = next + i;
                assertEquals(w.labels().get(g), shard.label(i), "label of example " + g + " (as written)");
                assertEquals(whole.label(g), shard.label(i));
                assertArrayEquals(bits(whole, g), bits(shard, i), "pixels of example " + g);
            }
            next += shard.size();
        }
        assertEquals(n, next, "every example in exactly one shard");
    }

    @ParameterizedTest
    @ValueSource(strings = {"idx", "idx-gz", "cifar10", "cifar100"})
    void anyRangeEqualsTheSameRangeOfAWholeRead(String kind) throws IOException {
        Written w = write(kind, 5);
        Path folder = Path.of(w.config().path());
        Dataset whole = Datasets.open(w.config(), Split.TRAIN, 0L, msg -> {});
        int n = whole.size();
        Random r = new Random(kind.hashCode());
        for (int trial = 0; trial < 12; trial++) {
            int from = r.nextInt(n);
            int to = from + 1 + r.nextInt(n - from);
            Dataset part = kind.startsWith("idx")
                    ? IdxDataset.openRange(folder, true, from, to)
                    : CifarDataset.openRange(folder, kind.equals("cifar100"), true, from, to);
            assertEquals(to - from, part.size());
            assertEquals((long) (to - from) * whole.shape().size(), ((ByteImageDataset) part).pixelBytes());
            for (int i = 0; i < part.size(); i++) {
                assertEquals(whole.label(from + i), part.label(i));
                assertArrayEquals(bits(whole, from + i), bits(part, i), "[" + from + ", " + to + ") at " + i);
            }
        }
    }

    @Test
    void trainLimitIsAppliedBeforeSharding() throws IOException {
        Written w = write("idx-gz", 3);
        DataConfig limited = config("idx", Path.of(w.config().path()), 10);
        Dataset whole = Datasets.open(limited, Split.TRAIN, 0L, msg -> {});
        int next = 0;
        for (int rank = 0; rank < 3; rank++) {
            ShardDataset s = Datasets.openShard(limited, 0L, rank, 3, msg -> {});
            assertEquals(10, s.population());
            assertEquals(whole.describe(), s.source());
            for (int i = 0; i < s.size(); i++) assertArrayEquals(bits(whole, next + i), bits(s, i));
            next += s.size();
        }
        assertEquals(10, next);
        List<String> log = new ArrayList<>();
        ShardDataset over = Datasets.openShard(config("idx", Path.of(w.config().path()), 50), 0L, 0, 2, log::add);
        assertEquals(23, over.population());
        assertTrue(log.get(0).contains("train_limit=50 is above the 23 examples"), log.toString());
    }

    @Test
    void refusesRangesOutsideTheFileMoreRanksThanExamplesAndTruncatedFiles() throws IOException {
        Written idx = write("idx-gz", 9);
        Path folder = Path.of(idx.config().path());
        var e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.openRange(folder, true, 20, 24));
        assertTrue(e.getMessage().contains("[20, 24) are not within its 23 images"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Datasets.openShard(idx.config(), 0L, 0, 24, m -> {}));
        assertTrue(e.getMessage().contains("too few for 24 ranks"), e.getMessage());
        Written cifar = write("cifar10", 9);
        Path cf = Path.of(cifar.config().path());
        e = assertThrows(IllegalArgumentException.class, () -> CifarDataset.openRange(cf, false, true, 5, 5));
        assertTrue(e.getMessage().contains("[5, 5) are not within its 17 records"), e.getMessage());
        // A header promising more images than the (gzipped) file holds: skipping to the last shard runs out.
        Path cut = Files.createDirectories(dir.resolve("cut"));
        byte[] px = new byte[5 * 28 * 28];
        IdxDatasetTest.write(
                cut.resolve("train-images-idx3-ubyte.gz"), IdxDatasetTest.idxImages(0x803, 40, 28, 28, px), true);
        IdxDatasetTest.write(
                cut.resolve("train-labels-idx1-ubyte.gz"), IdxDatasetTest.idxLabels(0x801, 40, new byte[40]), true);
        e = assertThrows(IllegalArgumentException.class, () -> IdxDataset.openRange(cut, true, 30, 40));
        assertTrue(e.getMessage().contains("truncated: ended while skipping images before example 30"), e.getMessage());
    }
}
