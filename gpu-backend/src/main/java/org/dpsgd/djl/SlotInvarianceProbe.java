package org.dpsgd.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.dpsgd.UserError;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.train.SlotInvarianceCheck;

/**
 * Measures, when the backend opens, whether this machine's matrix products keep a row's bits wherever the row
 * sits: products A·B, A·Bᵀ and batched A·B in float32 and float64, each computed again with A's rows (or batch
 * items) rolled by one, compared bit for bit. The clip bound needs an example's values to be the same in any slot
 * (docs/core.md, "Float margin" item 2); MKL's strict mode ({@link MklStrictMode}) is what should make it so, and
 * this is the check that it does on this CPU, whatever its vendor and whatever BLAS the libtorch has. Shapes are
 * few and small (rows 5–24, a few milliseconds); the dependence it looks for is a property of the code path (a
 * block's tail, a thread split), not of the values, so a path that moves rows shows it on random data.
 *
 * <p>The trainer checks the same premise on the run's own model before its first step ({@link SlotInvarianceCheck});
 * this probe adds the products on their own, at open. Setting {@code slot_invariance} (every backend's; else the
 * variable DPSGD_SLOT_INVARIANCE): {@code require} (default) refuses to open where a row moves; {@code record}
 * opens anyway and records the result (a weaker, float-level guarantee: the exact-arithmetic DP
 * analysis is unaffected, the clip bound for the values actually summed is not proven).
 */
final class SlotInvarianceProbe {
    private SlotInvarianceProbe() {}

    /** How many probed products changed a row's bits when it moved, of how many. */
    record Result(int moved, int total) {
        boolean holds() {
            return moved == 0;
        }

        @Override
        public String toString() {
            return holds()
                    ? "rows unchanged in another position in all " + total + " probed products"
                    : "ROWS MOVE: " + moved + " of " + total
                            + " probed products change a row's bits in another position";
        }
    }

    /** The {@code slot_invariance} setting (every backend's; {@link SlotInvarianceCheck}): whether rows that move refuse. */
    static boolean required(BackendOptions options) {
        return SlotInvarianceCheck.required(options.settings());
    }

    /** Runs the probe on {@code device} and refuses, where required, a machine whose rows move; returns the result. */
    static Result check(Device device, BackendOptions options) {
        required(options); // a bad value is refused before the probe runs
        return decide(run(device), options);
    }

    /** Refuses {@code r} where it does not hold and the setting requires it; else returns it. */
    static Result decide(Result r, BackendOptions options) {
        if (!r.holds() && required(options))
            throw new UserError("on this machine " + r.moved() + " of " + r.total() + " probed matrix products change a"
                    + " row's bits when it moves (" + MklStrictMode.describe()
                    + "), so an example's values could depend"
                    + " on its slot, which the clip bound does not allow (docs/core.md, \"Float margin\" item 2); set"
                    + " backend setting slot_invariance=record to train anyway with this recorded");
        if (!r.holds())
            System.err.println(
                    "warning: " + r + "; an example's values may depend on its slot, so the clip bound for the"
                            + " values summed is not proven on this machine (slot_invariance=record; docs/core.md, \"Float"
                            + " margin\" item 2)");
        return r;
    }

    static Result run(Device device) {
        SplittableRandom random = new SplittableRandom(20261202);
        int moved = 0;
        int total = 0;
        try (NDManager nd = NDManager.newBaseManager(device)) {
            for (DataType type : new DataType[] {DataType.FLOAT32, DataType.FLOAT64}) {
                for (int m : new int[] {5, 7, 9, 13, 24})
                    for (int k : new int[] {10, 64})
                        for (int n : new int[] {10, 128})
                            for (boolean transposed : new boolean[] {false, true}) {
                                total++;
                                if (rowMoves(nd, random, type, 0, m, k, n, transposed)) moved++;
                            }
                for (int batch : new int[] {3, 7})
                    for (int m : new int[] {4, 9}) {
                        total++;
                        if (rowMoves(nd, random, type, batch, m, 16, 24, false)) moved++;
                    }
            }
        }
        return new Result(moved, total);
    }

    /** A·B against (A rolled by one row, or by one batch item when batch > 0)·B, compared bit for bit. */
    private static boolean rowMoves(
            NDManager nd, SplittableRandom r, DataType type, int batch, int m, int k, int n, boolean transposed) {
        try (NDManager scope = nd.newSubManager()) {
            int items = batch > 0 ? batch : m; // what is rolled: batch items, or rows
            int perItem = batch > 0 ? m * k : k;
            double[] a = gaussian(r, items * perItem);
            double[] rolled = new double[a.length];
            for (int i = 0; i < items; i++)
                System.arraycopy(a, i * perItem, rolled, ((i + 1) % items) * perItem, perItem);
            Shape aShape = batch > 0 ? new Shape(batch, m, k) : new Shape(m, k);
            NDArray b = transposed
                    ? scope.create(gaussian(r, k * n), new Shape(n, k))
                            .toType(type, false)
                            .transpose()
                    : scope.create(gaussian(r, k * n), batch > 0 ? new Shape(1, k, n) : new Shape(k, n))
                            .toType(type, false);
            if (batch > 0) b = b.repeat(0, batch);
            NDArray c = scope.create(a, aShape).toType(type, false).matMul(b).toType(DataType.FLOAT64, false);
            NDArray d =
                    scope.create(rolled, aShape).toType(type, false).matMul(b).toType(DataType.FLOAT64, false);
            double[] x = c.toDoubleArray();
            double[] y = d.toDoubleArray();
            int perOut = x.length / items;
            for (int i = 0; i < items; i++)
                for (int j = 0; j < perOut; j++)
                    if (Double.doubleToRawLongBits(x[i * perOut + j])
                            != Double.doubleToRawLongBits(y[((i + 1) % items) * perOut + j])) return true;
            return false;
        }
    }

    private static double[] gaussian(SplittableRandom r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            double u = 1 - r.nextDouble();
            x[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
        }
        return x;
    }
}
