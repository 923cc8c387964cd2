package org.dpsgd.djl;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.io.File;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.dpsgd.UserError;

/**
 * Matrix products whose every row is computed the same way wherever it sits in the call: Intel MKL's
 * conditional numerical reproducibility in its strict mode ({@code MKL_CBWR=AUTO,STRICT}).
 *
 * <p>Why: the clip bound treats a per-example value as a function of its own example alone (docs/core.md,
 * "Float margin", item 2). Removing an example moves the others to other slots, so a row of a product
 * must not depend on its slot. MKL's default code paths do not promise that: with its AVX2 kernels a row
 * of an sgemm comes out differently in the tail of a block than inside it (measured, session 13: 708 of
 * 2,520 shapes, already at one thread; with MKL_CBWR=AVX2,STRICT or AUTO,STRICT, 0). Intel documents strict mode
 * as giving bitwise reproducible ?gemm results even when the number of threads changes (AVX2 and AVX-512 branches);
 * our reading is that each element's order of operations is then fixed whatever the partition, which is what removes
 * the dependence on the slot, and the measurements agree.
 *
 * <p>MKL reads MKL_CBWR once, at its first call, so it is set (libc setenv) before the engine loads. After the
 * load the mode MKL holds is read back and refused if it is not a strict one (Intel documents strict mode for the
 * AVX2 and AVX-512 branches only, and for ?gemm, ?symm, ?hemm and ?trsm). Because what MKL reports is the
 * setting, not proof that every product is slot-invariant on this CPU (or that there is MKL at all), the backend
 * then measures it: {@link SlotInvarianceProbe}.
 */
final class MklStrictMode {
    private MklStrictMode() {}

    /** What MKL_CBWR is set to when the environment leaves it unset: the CPU's own branch, strict. */
    static final String DEFAULT = "AUTO,STRICT";

    // mkl_service.h
    private static final int CBWR_ALL = -1;
    static final int CBWR_AUTO = 2;
    static final int CBWR_STRICT = 0x10000;

    /** The branches on which MKL documents a strict mode. */
    static final List<String> STRICT_BRANCHES = List.of("AUTO", "AVX2", "AVX512");

    private static final int RTLD_LAZY = 1;
    private static final int RTLD_NOLOAD = 4; // glibc: only find the copy already loaded, never load a second one

    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

    /** MKL's mode functions as libtorch_cpu exports them: mkl_cbwr_get/set under their internal names, looked up by name. */
    record Mkl(Function get, Function autoBranchFunction) {
        int mode() {
            return get.invokeInt(new Object[] {CBWR_ALL});
        }

        /** The branch AUTO resolves to on this CPU (MKL_CBWR_AVX2 = 10, AVX512 = 12), or -1 if not exported. */
        int autoBranch() {
            return autoBranchFunction == null ? -1 : autoBranchFunction.invokeInt(new Object[0]);
        }
    }

    private static volatile String state; // null until checked once after the engine loaded
    private static volatile String applied = "unknown"; // what MKL_CBWR holds for MKL, as far as this class knows

    /**
     * The value to give MKL_CBWR before the engine loads: the default where the environment leaves it unset, null
     * where the environment already asks for a strict mode on a branch that has one (AUTO, AVX2, AVX512) in MKL's
     * spelling, that request in MKL's spelling where it is written otherwise; anything else is refused in one line.
     */
    static String toApply(String env) {
        if (env == null || env.isBlank()) return DEFAULT;
        List<String> parts = Arrays.stream(env.split(","))
                .map(s -> s.trim().toUpperCase(Locale.ROOT))
                .toList();
        if (!parts.contains("STRICT"))
            throw new UserError("MKL_CBWR=" + env + " lets a row of a matrix product depend on where it sits in the"
                    + " call, which the clip bound does not allow (docs/core.md, \"Float margin\" item 2); add"
                    + " ,STRICT (e.g. MKL_CBWR=" + env.trim() + ",STRICT) or unset it");
        if (parts.size() != 2 || !STRICT_BRANCHES.contains(parts.get(0)))
            throw new UserError("MKL_CBWR=" + env + ": MKL has a strict mode only on the AUTO, AVX2 and AVX512"
                    + " branches (named as BRANCH,STRICT); use MKL_CBWR=AUTO,STRICT or unset it");
        String canonical = String.join(",", parts); // MKL's own spelling: upper case, no spaces
        return canonical.equals(env) ? null : canonical;
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
     * Once the engine is loaded: reads the mode MKL holds and refuses one that is not strict, or an error code.
     * MKL fixes its mode at its first call, which loading the engine already made, so it cannot be changed here:
     * the fix is to start the JVM with the variable. Returns what {@link #describe()} says.
     */
    static synchronized String verifyAfterEngineLoads() {
        if (state != null) return state;
        Mkl mkl = mkl();
        return state = mkl == null ? check(null, -1) : check(mkl.mode(), mkl.autoBranch());
    }

    /**
     * The check on the mode MKL reports (null: none readable) and the branch its AUTO resolves to (-1: unknown);
     * parameters, so that tests can give it any answer.
     */
    static String check(Integer reported, int auto) {
        if (reported == null)
            // No MKL (a libtorch on another BLAS), or MKL without its mode functions exported: MKL_CBWR was still set.
            return "no MKL mode readable in this libtorch (MKL_CBWR=" + applied + ")";
        int mode = reported;
        int branch = mode & 0xffff;
        if (mode < 0 || (mode & CBWR_STRICT) == 0 || branch < CBWR_AUTO || (mode & ~(CBWR_STRICT | 0xffff)) != 0)
            throw new UserError(String.format(
                    "MKL does not hold a strict reproducibility mode (it reports 0x%x), so a row of a matrix product"
                            + " may depend on where it sits in the call (docs/core.md, \"Float margin\" item 2);"
                            + " start the JVM with MKL_CBWR=AUTO,STRICT",
                    mode));
        String resolved = branch == CBWR_AUTO && auto > 0 ? ", AUTO is " + branch(auto) + " on this CPU" : "";
        return String.format("%s,STRICT (mode 0x%x%s)", branch(branch), mode, resolved);
    }

    /** What MKL runs in, for provenance; "unchecked" until a backend has opened. */
    static String describe() {
        String s = state;
        return s == null ? "unchecked" : s;
    }

    /** The MKL_CBWR mode MKL reports, or -1 where no MKL mode is readable (for tests). */
    static int mode() {
        Mkl mkl = mkl();
        return mkl == null ? -1 : mkl.mode();
    }

    /** Null where the loaded libtorch_cpu is not found or exports no MKL mode function. */
    private static Mkl mkl() {
        File lib = new File(LibUtils.getLibtorchPath(), System.mapLibraryName("torch_cpu"));
        if (!lib.isFile()) return null;
        NativeLibrary torch;
        Function get;
        try {
            torch = NativeLibrary.getInstance(
                    lib.getAbsolutePath(), Map.of(Library.OPTION_OPEN_FLAGS, RTLD_LAZY | RTLD_NOLOAD));
            get = torch.getFunction("mkl_serv_cbwr_get");
        } catch (UnsatisfiedLinkError e) {
            return null;
        }
        Function auto;
        try {
            auto = torch.getFunction("mkl_serv_cbwr_get_auto_branch");
        } catch (UnsatisfiedLinkError e) {
            auto = null;
        }
        return new Mkl(get, auto);
    }

    private static String branch(int code) {
        return switch (code) {
            case 2 -> "AUTO";
            case 3 -> "COMPATIBLE";
            case 9 -> "AVX";
            case 10 -> "AVX2";
            case 11 -> "AVX512_MIC";
            case 12 -> "AVX512";
            case 13 -> "AVX512_MIC_E1";
            case 14 -> "AVX512_E1";
            default -> "branch " + code;
        };
    }
}
