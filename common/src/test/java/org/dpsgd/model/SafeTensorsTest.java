package org.dpsgd.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SafeTensorsTest {
    @TempDir
    Path dir;

    static Network net(int classes) {
        return ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), classes);
    }

    @Test
    void writeThenReadRoundTrips() {
        Network n = net(10);
        float[] p = Initializer.initialize(n, 3);
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, n, p);
        Map<String, SafeTensors.Tensor> t = SafeTensors.read(f);
        assertEquals(n.parameters().size(), t.size());
        assertArrayEquals(new int[] {16, 1, 3, 3}, t.get("conv1.weight").shape());
        float[] back = new float[p.length];
        SafeTensors.LoadReport r = SafeTensors.load(n, back, t, SafeTensors.LoadOptions.strict());
        assertArrayEquals(p, back);
        assertEquals(n.parameters().size(), r.loaded().size());
    }

    /** A file built byte by byte from the format description, with values whose encodings are known. */
    private Path handMade(String dtype, byte[] data, int count) throws IOException {
        String json = "{\"__metadata__\":{\"format\":\"pt\"},\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":[" + count
                + "],\"data_offsets\":[0," + data.length + "]}}";
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(data);
        Path f = dir.resolve(dtype + ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // dtype, little-endian hex of the values 1.5, -2, 65504 (or max), 2^-24 (smallest), 0
        "F16, 003e00c0ff7b01000000, 1.5;-2;65504;5.9604645E-8;0",
        "BF16, c03f00c07f7f01000000, 1.5;-2;3.3895314E38;9.1835E-41;0",
    })
    void halfPrecisionDecodes(String dtype, String hex, String expected) throws IOException {
        byte[] data = hexBytes(hex);
        Map<String, SafeTensors.Tensor> t = SafeTensors.read(handMade(dtype, data, data.length / 2));
        String[] want = expected.split(";");
        float[] got = t.get("x").values();
        for (int i = 0; i < want.length; i++)
            assertEquals(Float.parseFloat(want[i]), got[i], Math.abs(Float.parseFloat(want[i])) * 1e-6, "element " + i);
    }

    @Test
    void float64Decodes() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(0.25)
                .putDouble(-3.0);
        float[] got = SafeTensors.read(handMade("F64", b.array(), 2)).get("x").values();
        assertArrayEquals(new float[] {0.25f, -3f}, got);
    }

    @Test
    void unsupportedDtypesAreListedButNotLoadable() throws IOException {
        SafeTensors.Tensor t = SafeTensors.read(handMade("I64", new byte[8], 1)).get("x");
        assertEquals("I64", t.dtype());
        assertEquals(null, t.values());
    }

    @Test
    void corruptFilesAreRefusedClearly() throws IOException {
        Path f = dir.resolve("bad.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f))
                .getMessage()
                .contains("shorter"));
        ByteBuffer b = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(1L << 40)
                .putLong(0);
        Files.write(f, b.array());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(f))
                .getMessage()
                .contains("header length"));
        Path trunc = handMade("F32", new byte[8], 4); // 4 floats need 16 bytes
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.read(trunc));
    }

    @Test
    void missingUnexpectedAndMismatchedNamesAreErrors() {
        Network n10 = net(10);
        Network n5 = net(5);
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, n10, Initializer.initialize(n10, 1));
        Map<String, SafeTensors.Tensor> t = SafeTensors.read(f);
        float[] p5 = Initializer.initialize(n5, 2);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.load(n5, p5.clone(), t, SafeTensors.LoadOptions.strict()));
        assertTrue(
                e.getMessage().contains("fc.weight") && e.getMessage().contains("re-initialise the head"),
                e.getMessage());

        // head re-initialisation keeps the initial head and loads the rest
        float[] p = p5.clone();
        SafeTensors.LoadReport r = SafeTensors.load(n5, p, t, new SafeTensors.LoadOptions(true, "fc.", false));
        assertEquals(List.of("fc.weight", "fc.bias"), r.reinitialized());
        int fcOff = n5.parameterOffsets()[n5.parameters().size() - 2];
        for (int i = fcOff; i < p.length; i++) assertEquals(p5[i], p[i]);
        assertEquals(t.get("conv1.weight").values()[0], p[0]);

        Map<String, SafeTensors.Tensor> extra = new java.util.LinkedHashMap<>(t);
        extra.put("bn1.running_mean", new SafeTensors.Tensor("bn1.running_mean", "F32", new int[] {16}, new float[16]));
        assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.load(
                        n10, new float[(int) n10.parameterCount()], extra, SafeTensors.LoadOptions.strict()));
        SafeTensors.LoadReport ok = SafeTensors.load(
                n10, new float[(int) n10.parameterCount()], extra, new SafeTensors.LoadOptions(false, "fc.", true));
        assertEquals(List.of("bn1.running_mean"), ok.ignored());

        Map<String, SafeTensors.Tensor> less = new java.util.LinkedHashMap<>(t);
        less.remove("conv2.bias");
        IllegalArgumentException m = assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.load(
                        n10, new float[(int) n10.parameterCount()], less, SafeTensors.LoadOptions.strict()));
        assertTrue(m.getMessage().contains("conv2.bias") && m.getMessage().contains("missing"), m.getMessage());
    }

    /** Non-finite weights are refused at load, naming each tensor, where they are and how many; unloaded tensors do not matter. */
    @Test
    void nonFiniteWeightsAreRefusedByTensorName() throws IOException {
        Network n = net(10);
        Map<String, SafeTensors.Tensor> clean = SafeTensors.read(writeNet(n));
        Map<String, SafeTensors.Tensor> t = new java.util.LinkedHashMap<>(clean);
        float[] w = clean.get("conv2.weight").values().clone();
        w[7] = Float.NaN;
        w[9] = Float.NEGATIVE_INFINITY;
        t.put(
                "conv2.weight",
                new SafeTensors.Tensor(
                        "conv2.weight", "F32", clean.get("conv2.weight").shape(), w));
        float[] b = clean.get("conv1.bias").values().clone();
        b[0] = Float.POSITIVE_INFINITY;
        t.put(
                "conv1.bias",
                new SafeTensors.Tensor(
                        "conv1.bias", "F32", clean.get("conv1.bias").shape(), b));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> SafeTensors.load(n, new float[(int) n.parameterCount()], t, SafeTensors.LoadOptions.strict()));
        assertTrue(
                e.getMessage().contains("'conv2.weight' (2 of " + w.length + " values, first at index 7: NaN)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("'conv1.bias' (1 of"), e.getMessage());
        assertTrue(e.getMessage().contains("2 tensor(s)"), e.getMessage());

        // A NaN in a tensor that is not loaded (an ignored BatchNorm statistic) is harmless.
        Map<String, SafeTensors.Tensor> extra = new java.util.LinkedHashMap<>(clean);
        float[] stat = new float[16];
        stat[3] = Float.NaN;
        extra.put("bn1.running_var", new SafeTensors.Tensor("bn1.running_var", "F32", new int[] {16}, stat));
        SafeTensors.load(
                n, new float[(int) n.parameterCount()], extra, new SafeTensors.LoadOptions(false, "fc.", true));
    }

    /** The check runs on the converted floats: an F64 beyond float range and an F16 infinity are caught from the file itself. */
    @Test
    void nonFiniteValuesAfterConversionAreCaught() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putDouble(0.5)
                .putDouble(1e300);
        SafeTensors.Tensor big = SafeTensors.read(handMade("F64", b.array(), 2)).get("x");
        assertEquals(
                "'x' (1 of 2 values, first at index 1: Infinity, or beyond float range)", SafeTensors.nonFinite(big));
        SafeTensors.Tensor inf =
                SafeTensors.read(handMade("F16", hexBytes("007c0000"), 2)).get("x"); // +inf, 0
        assertTrue(SafeTensors.nonFinite(inf).startsWith("'x' (1 of 2 values, first at index 0: Infinity"));
        assertEquals(
                null,
                SafeTensors.nonFinite(SafeTensors.read(handMade("F16", hexBytes("003e00c0"), 2))
                        .get("x")));
    }

    private Path writeNet(Network n) {
        Path f = dir.resolve("net.safetensors");
        SafeTensors.write(f, n, Initializer.initialize(n, 5));
        return f;
    }

    private static byte[] hexBytes(String hex) {
        byte[] b = new byte[hex.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        return b;
    }
}
