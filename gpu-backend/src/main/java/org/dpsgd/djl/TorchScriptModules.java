package org.dpsgd.djl;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * TorchScript modules written here as source text and compiled by the engine's own libtorch: how
 * the backend reaches native ops that DJL's JNI does not expose ({@link NativeGroupNorm},
 * {@link InPlaceSgd}). No binary file and no extra native code: a module is a few fixed bytes of a
 * TorchScript archive around its source.
 */
final class TorchScriptModules {
    private TorchScriptModules() {}

    /**
     * Compiles module class {@code className} (the class in {@code source}, a stateless
     * {@code Module} with {@code training = True}); the block belongs to {@code manager} and is freed
     * with it.
     */
    static PtSymbolBlock load(NDManager manager, String className, String source) {
        try {
            return JniUtils.loadModule(
                    (PtNDManager) manager, new ByteArrayInputStream(archive(className, source)), true, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A TorchScript archive (format version 3, as {@code torch.jit.save} writes): a zip of the source,
     * the pickled module object (class {@code __torch__.<className>}, {@code training = True}), an
     * empty constants table and the version. Entries are stored uncompressed, as PyTorch writes them.
     */
    static byte[] archive(String className, String source) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            put(zip, "m/data.pkl", moduleObjectPickle(className));
            put(zip, "m/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            put(zip, "m/constants.pkl", new byte[] {(byte) 0x80, 2, ')', '.'}); // protocol 2, empty tuple
            put(zip, "m/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in-memory streams do not fail
        }
        return out.toByteArray();
    }

    /** Pickle (protocol 2) of {@code __torch__.<className>} with state {'training': True}. */
    private static byte[] moduleObjectPickle(String className) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        p.write(0x80); // PROTO 2
        p.write(2);
        p.writeBytes(("c__torch__\n" + className + "\n").getBytes(StandardCharsets.US_ASCII)); // GLOBAL
        p.write(')'); // EMPTY_TUPLE
        p.write(0x81); // NEWOBJ
        p.write('}'); // EMPTY_DICT
        p.write('('); // MARK
        byte[] name = "training".getBytes(StandardCharsets.US_ASCII);
        p.write('X'); // BINUNICODE, 4-byte little-endian length
        p.writeBytes(new byte[] {(byte) name.length, 0, 0, 0});
        p.writeBytes(name);
        p.write(0x88); // NEWTRUE
        p.write('u'); // SETITEMS
        p.write('b'); // BUILD
        p.write('.'); // STOP
        return p.toByteArray();
    }

    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }
}
