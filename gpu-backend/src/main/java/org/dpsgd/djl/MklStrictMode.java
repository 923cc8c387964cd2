package org.dpsgd.djl;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.File;
import java.util.Arrays;
import java.util.Locale;
import org.dpsgd.UserError;

/**
 * Matrix products whose every row is computed the same way wherever it sits in the call: Intel MKL's
 * conditional numerical reproducibility in its strict mode ({@code MKL_CBWR=AUTO,STRICT}).
 *
 * <p>Why: the clip bound treats a per-example value as a function of its own example alone (docs/core.md,
 * "Float margin", item 2). Removing an example moves the others to other slots, so a row of a product
 * must not depend on its slot. MKL's default code paths do not promise that: with its AVX2 kernels a row
 * of an sgemm comes out differently in the tail of a block than inside it (measured, session 13: 708 of
 * 2,520 shapes, already at one thread; with MKL_CBWR=AVX2,STRICT or AUTO,STRICT, 0). Strict mode fixes each
 * element's order of operations whatever the thread count and partition (Intel: "results do not depend on
 * the number of threads" for ?gemm), which is what removes the dependence on the slot.
 *
 * <p>MKL reads MKL_CBWR once, at its first call, so it is set (libc setenv) before the engine loads. After the
 * load the mode in force is read back from MKL itself and refused if it is not strict. A libtorch without MKL
 * (e.g. Debian's, on OpenBLAS) is reported, not refused: its products are unchecked (docs/core.md says what
 * checks them there: {@code SlotPositionTest}).
 */
final class MklStrictMode {
    private MklStrictMode() {}

    /** What MKL_CBWR is set to when the environment leaves it unset: the CPU's own branch, strict. */
    static final String DEFAULT = "AUTO,STRICT";

    // mkl_service.h
    private static final int CBWR_ALL = -1;
    static final int CBWR_AUTO = 2;
    static final int CBWR_STRICT = 0x10000;

    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /** MKL's mode functions as libtorch_cpu exports them: mkl_cbwr_get/set under their internal names, looked up by name. */
    record Mkl(Function get, Function set) {
        int mode() {
            return get.invokeInt(new Object[] {CBWR_ALL});
        }

        void setStrict() {
            set.invokeInt(new Object[] {CBWR_AUTO | CBWR_STRICT});
        }
    }

    private static volatile String state; // null until checked once after the engine loaded
    private static volatile String applied = "unknown"; // what MKL_CBWR holds for MKL, as far as this class knows

    /**
     * The value to give MKL_CBWR before the engine loads: the default where the environment leaves it
     * unset, null where the environment already asks for a strict mode; a mode without STRICT is refused.
     */
    static String toApply(String env) {
        if (env == null || env.isBlank()) return DEFAULT;
        boolean strict = Arrays.stream(env.split(","))
                .map(s -> s.trim().toUpperCase(Locale.ROOT))
                .anyMatch("STRICT"::equals);
        if (!strict)
            throw new UserError("MKL_CBWR=" + env + " lets a row of a matrix product depend on where it sits in the"
                    + " call, which the clip bound does not allow (docs/core.md, \"Float margin\" item 2); add"
                    + " ,STRICT (e.g. MKL_CBWR=" + env.trim() + ",STRICT) or unset it");
        return null;
    }

    /** Sets MKL_CBWR for MKL's first call; call before the engine loads (nothing is set once it has). */
    static void applyBeforeEngineLoads(boolean engineLoaded) {
        String env = System.getenv("MKL_CBWR");
        String want = toApply(env);
        if (want == null) applied = env.trim();
        else if (!engineLoaded) {
            Native.load("c", LibC.class).setenv("MKL_CBWR", want, 1);
            applied = want;
        }
    }

    /**
     * Once the engine is loaded: reads the mode MKL runs in and, if it is not strict, asks MKL for
     * AUTO,STRICT (possible only before its first computation); refuses if the mode is still not strict.
     * Returns what {@link #describe()} says.
     */
    static synchronized String verifyAfterEngineLoads() {
        if (state != null) return state;
        Mkl mkl = mkl();
        if (mkl == null) return state = "no libtorch_cpu found: slot invariance of its products unchecked";
        if (mkl.get() == null)
            // No MKL (e.g. OpenBLAS), or MKL without its mode functions exported: MKL_CBWR was still set for it.
            return state = "no MKL mode in this libtorch (MKL_CBWR=" + applied
                    + "): slot invariance of its products unchecked";
        int mode = mkl.mode();
        if ((mode & CBWR_STRICT) == 0) {
            mkl.setStrict();
            mode = mkl.mode();
        }
        if ((mode & CBWR_STRICT) == 0)
            throw new UserError(String.format(
                    "MKL does not run in its strict reproducibility mode (mode 0x%x), so a row of a matrix product"
                            + " may depend on where it sits in the call (docs/core.md, \"Float margin\" item 2);"
                            + " start the JVM with MKL_CBWR=AUTO,STRICT",
                    mode));
        return state = String.format("%s (mode 0x%x)", branch(mode & ~CBWR_STRICT) + ",STRICT", mode);
    }

    /** What MKL runs in, for provenance; "unchecked" until a backend has opened. */
    static String describe() {
        String s = state;
        return s == null ? "unchecked" : s;
    }

    /** The MKL_CBWR mode MKL reports, or -1 where this libtorch has no MKL or does not export its mode (for tests). */
    static int mode() {
        Mkl mkl = mkl();
        return mkl == null || mkl.get() == null ? -1 : mkl.mode();
    }

    /** Null without a libtorch_cpu file; functions null where it has no MKL or does not export MKL's mode. */
    private static Mkl mkl() {
        File lib = new File(LibUtils.getLibtorchPath(), System.mapLibraryName("torch_cpu"));
        if (!lib.isFile()) return null;
        try {
            NativeLibrary torch = NativeLibrary.getInstance(lib.getAbsolutePath());
            return new Mkl(torch.getFunction("mkl_serv_cbwr_get"), torch.getFunction("mkl_serv_cbwr_set"));
        } catch (UnsatisfiedLinkError e) {
            return new Mkl(null, null);
        }
    }

    private static String branch(int code) {
        return switch (code) {
            case 2 -> "AUTO";
            case 3 -> "COMPATIBLE";
            case 9 -> "AVX";
            case 10 -> "AVX2";
            case 12 -> "AVX512";
            default -> "branch " + code;
        };
    }
}
