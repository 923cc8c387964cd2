package org.dpsgd.djl;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.JniUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The TorchScript modules one native op class compiles for a model ({@link NativeGroupNorm}, {@link
 * NativeConvUnfold}, {@link ChannelsLastMaxPool}): each module is written as a {@link TorchScriptArchive}, loaded
 * once per key and kept. The blocks belong to the model's manager and are freed with it. Thread-safe, since the
 * book-keeping taps may run on two threads ({@link TapPhases}).
 */
final class TorchScriptModules {
    private final NDManager manager;
    private final String folder;
    private final String className;
    private final Map<String, PtSymbolBlock> modules = new HashMap<>();

    /** Modules of class {@code className} under archive folder {@code folder}, loaded into {@code manager}. */
    TorchScriptModules(NDManager manager, String folder, String className) {
        this.manager = manager;
        this.folder = folder;
        this.className = className;
    }

    /** The module for {@code key}; on first use its {@code source} is compiled. */
    synchronized PtSymbolBlock get(String key, Supplier<String> source) {
        PtSymbolBlock m = modules.get(key);
        if (m == null) {
            byte[] archive = TorchScriptArchive.of(folder, className, source.get());
            try {
                m = JniUtils.loadModule((PtNDManager) manager, new ByteArrayInputStream(archive), true, false);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            modules.put(key, m);
        }
        return m;
    }
}
