package org.dpsgd.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format (Hugging Face), read and written without a library: an 8-byte
 * little-endian header length, a JSON header mapping each tensor name to its dtype, shape and
 * [begin, end) byte offsets into the data that follows, then the raw little-endian data. Reads
 * F32, F64, F16 and BF16 (converted to float); other dtypes are listed but cannot be loaded into
 * a parameter. Writes F32. Names follow torchvision/timm, as {@link Network#parameters()} does.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {}

    /** One tensor of a file; {@code values} is null for a dtype this reader does not convert (e.g. I64). */
    public record Tensor(String name, String dtype, int[] shape, float[] values) {
        /** Number of elements: the product of the shape's dimensions (1 for a scalar). */
        public long size() {
            long n = 1;
            for (int d : shape) n *= d;
            return n;
        }
    }

    /** Options for {@link #load}: re-initialise the head (parameters starting with {@code headPrefix}) when its shape differs; skip file tensors the network lacks. */
    public record LoadOptions(boolean reinitializeHead, String headPrefix, boolean ignoreUnexpected) {
        /**
         * Loads every parameter from the file: no head re-initialisation (head prefix {@code fc.}), no unexpected
         * tensors.
         */
        public static LoadOptions strict() {
            return new LoadOptions(false, "fc.", false);
        }
    }

    /** What {@link #load} did: parameters taken from the file, kept at their initial values (head), and file tensors ignored. */
    public record LoadReport(List<String> loaded, List<String> reinitialized, List<String> ignored) {}

    /**
     * Reads every tensor of {@code file} by name, in file order; a malformed file throws {@link
     * IllegalArgumentException}.
     */
    public static Map<String, Tensor> read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw bad(file, "file is " + fileSize + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > fileSize) {
                throw bad(
                        file,
                        "header length " + headerLen + " is impossible for a file of " + fileSize
                                + " bytes (not a safetensors file?)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8, file);
            JsonNode header;
            try {
                header = JSON.readTree(new String(headerBuf.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw bad(file, "the header is not valid JSON: " + e.getMessage());
            }
            if (header == null || !header.isObject()) throw bad(file, "the header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataSize = fileSize - dataStart;
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("__metadata__")) continue;
                out.put(e.getKey(), readTensor(ch, file, e.getKey(), e.getValue(), dataStart, dataSize));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    private static Tensor readTensor(
            FileChannel ch, Path file, String name, JsonNode info, long dataStart, long dataSize) throws IOException {
        String dtype = info.path("dtype").asText(null);
        JsonNode shapeNode = info.path("shape");
        JsonNode offsets = info.path("data_offsets");
        if (dtype == null || !shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
            throw bad(file, "tensor '" + name + "' lacks dtype, shape or data_offsets [begin, end]");
        }
        int[] shape = new int[shapeNode.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = shapeNode.get(i).asLong(-1);
            if (d < 0 || d > Integer.MAX_VALUE)
                throw bad(file, "tensor '" + name + "' has a bad dimension " + shapeNode.get(i));
            shape[i] = (int) d;
            count *= d;
        }
        long begin = offsets.get(0).asLong(-1);
        long end = offsets.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataSize) {
            throw bad(
                    file,
                    "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] outside the " + dataSize
                            + " data bytes (truncated file?)");
        }
        int width = width(dtype);
        if (width > 0 && end - begin != count * width) {
            throw bad(
                    file,
                    "tensor '" + name + "' (" + dtype + " " + Arrays.toString(shape) + ") needs " + count * width
                            + " bytes but its offsets span " + (end - begin));
        }
        if (width <= 0) return new Tensor(name, dtype, shape, null);
        if (count > Integer.MAX_VALUE) throw bad(file, "tensor '" + name + "' is too large (" + count + " elements)");
        ByteBuffer buf = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, buf, dataStart + begin, file);
        buf.flip();
        float[] v = new float[(int) count];
        switch (dtype) {
            case "F32" -> buf.asFloatBuffer().get(v);
            case "F64" -> {
                for (int i = 0; i < v.length; i++) v[i] = (float) buf.getDouble();
            }
            case "F16" -> {
                for (int i = 0; i < v.length; i++) v[i] = halfToFloat(buf.getShort());
            }
            case "BF16" -> {
                for (int i = 0; i < v.length; i++) v[i] = Float.intBitsToFloat((buf.getShort() & 0xFFFF) << 16);
            }
            default -> throw new IllegalStateException("unreachable dtype " + dtype);
        }
        return new Tensor(name, dtype, shape, v);
    }

    /** Bytes per element of the float dtypes this reader converts; 0 for any other dtype. */
    static int width(String dtype) {
        return switch (dtype) {
            case "F32" -> 4;
            case "F64" -> 8;
            case "F16", "BF16" -> 2;
            default -> 0;
        };
    }

    /** IEEE 754 binary16 to float, subnormals, infinities and NaN included. */
    static float halfToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        if (exp == 0) {
            float f = mant * 0x1p-24f;
            return sign == 0 ? f : -f;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    /** Writes the network's parameters (flat vector in {@link Network#parameters()} order) as F32 tensors. */
    public static void write(Path file, Network network, float[] params) {
        if (params.length != network.parameterCount()) {
            throw new IllegalArgumentException("parameter vector has " + params.length + " values but " + network.name()
                    + " has " + network.parameterCount());
        }
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        List<ParamSpec> ps = network.parameters();
        int[] off = network.parameterOffsets();
        for (int i = 0; i < ps.size(); i++) {
            ParamSpec p = ps.get(i);
            tensors.put(
                    p.name(),
                    new Tensor(p.name(), "F32", p.shape(), Arrays.copyOfRange(params, off[i], off[i] + p.size())));
        }
        write(file, tensors, Map.of("format", "pt", "producer", "dpsgd", "model", network.name()));
    }

    /** Writes tensors as F32 (whatever their recorded dtype), with optional string metadata. */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Tensor t : tensors.values()) {
            if (t.values() == null)
                throw new IllegalArgumentException("tensor '" + t.name() + "' has no float values to write");
            if (t.values().length != t.size()) {
                throw new IllegalArgumentException("tensor '" + t.name() + "' has " + t.values().length
                        + " values for shape " + Arrays.toString(t.shape()));
            }
            ObjectNode n = header.putObject(t.name());
            n.put("dtype", "F32");
            var shape = n.putArray("shape");
            for (int d : t.shape()) shape.add(d);
            var offs = n.putArray("data_offsets");
            offs.add(offset);
            offset += 4L * t.values().length;
            offs.add(offset);
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        int padded = (json.length + 7) / 8 * 8; // the format pads the header with spaces to 8-byte alignment
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len =
                    ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(headerBytes);
            for (Tensor t : tensors.values()) {
                ByteBuffer b = ByteBuffer.allocate(4 * t.values().length).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(t.values());
                out.write(b.array());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write safetensors file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Copies the file's tensors into {@code params} (the network's flat vector, holding initial
     * values) by parameter name. Every parameter must be in the file with the same shape, except a
     * head parameter with {@code reinitializeHead}, which keeps its initial value when it is absent
     * or its shape differs (a different class count). File tensors the network lacks are an error
     * unless {@code ignoreUnexpected} (e.g. BatchNorm running statistics of a torchvision file).
     */
    public static LoadReport load(Network network, float[] params, Map<String, Tensor> file, LoadOptions options) {
        if (params.length != network.parameterCount()) {
            throw new IllegalArgumentException("parameter vector has " + params.length + " values but " + network.name()
                    + " has " + network.parameterCount());
        }
        List<ParamSpec> ps = network.parameters();
        int[] off = network.parameterOffsets();
        List<String> loaded = new ArrayList<>();
        List<String> reinit = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        List<String> nonFinite = new ArrayList<>();
        for (int i = 0; i < ps.size(); i++) {
            ParamSpec p = ps.get(i);
            Tensor t = file.get(p.name());
            boolean head = options.reinitializeHead() && p.name().startsWith(options.headPrefix());
            if (t == null) {
                if (head) reinit.add(p.name());
                else missing.add(p.name());
                continue;
            }
            if (!Arrays.equals(t.shape(), p.shape())) {
                if (head) reinit.add(p.name());
                else
                    mismatched.add(p.name() + ": file " + Arrays.toString(t.shape()) + ", network "
                            + Arrays.toString(p.shape()));
                continue;
            }
            if (t.values() == null) {
                throw new IllegalArgumentException("tensor '" + p.name() + "' has dtype " + t.dtype()
                        + "; only F32, F64, F16 and BF16 can be loaded");
            }
            String bad = nonFinite(t);
            if (bad != null) nonFinite.add(bad);
            System.arraycopy(t.values(), 0, params, off[i], p.size());
            loaded.add(p.name());
        }
        if (!nonFinite.isEmpty()) {
            // Refused here, by name: otherwise the first step's NaN loss reads like a learning-rate problem.
            throw new IllegalArgumentException("the pretrained weights hold NaN or infinite values in "
                    + nonFinite.size() + " tensor(s): " + preview(nonFinite)
                    + "; the file is corrupt or was saved after training diverged: export the weights again");
        }
        List<String> unexpected = new ArrayList<>();
        java.util.Set<String> known = new java.util.HashSet<>();
        for (ParamSpec p : ps) known.add(p.name());
        for (String name : file.keySet()) if (!known.contains(name)) unexpected.add(name);
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(missing.size() + " parameter(s) of " + network.name()
                    + " are missing from the file: " + preview(missing)
                    + (options.reinitializeHead() ? "" : " (for a new head, enable head re-initialisation)"));
        }
        if (!mismatched.isEmpty()) {
            throw new IllegalArgumentException(
                    "shape mismatch for " + mismatched.size() + " parameter(s): " + preview(mismatched)
                            + (mismatched.stream().allMatch(m -> m.startsWith(options.headPrefix()))
                                    ? " (a different class count? re-initialise the head)"
                                    : ""));
        }
        if (!unexpected.isEmpty() && !options.ignoreUnexpected()) {
            throw new IllegalArgumentException(unexpected.size() + " tensor(s) in the file are not parameters of "
                    + network.name() + ": " + preview(unexpected)
                    + " (wrong model? or allow ignoring unexpected tensors, e.g. BatchNorm running statistics)");
        }
        return new LoadReport(List.copyOf(loaded), List.copyOf(reinit), List.copyOf(unexpected));
    }

    /** "name (k of n values non-finite, first at index i)" when the tensor holds NaN or ±∞ (after conversion to float), else null. */
    static String nonFinite(Tensor t) {
        float[] v = t.values();
        int count = 0;
        int first = -1;
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                if (count++ == 0) first = i;
            }
        }
        if (count == 0) return null;
        return "'" + t.name() + "' (" + count + " of " + v.length + " values, first at index " + first + ": " + v[first]
                + (t.dtype().equals("F64") && !Float.isNaN(v[first]) ? ", or beyond float range" : "") + ")";
    }

    private static String preview(List<String> names) {
        return names.size() <= 5
                ? String.join(", ", names)
                : String.join(", ", names.subList(0, 5)) + ", ... (" + (names.size() - 5) + " more)";
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw bad(file, "unexpected end of file at byte " + pos);
            pos += n;
        }
    }

    private static IllegalArgumentException bad(Path file, String why) {
        return new IllegalArgumentException("bad safetensors file " + file + ": " + why);
    }
}
