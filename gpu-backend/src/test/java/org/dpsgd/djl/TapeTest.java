package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.Test;

/**
 * {@link Tape#withLeaf}: before the pass's first leaf, the layer output itself is the leaf (no add), after it a zero
 * leaf is added, or on a tape that cuts the output is cut there; every leaf's gradient must be dL/dy exactly. The whole strategy against the batch-size-1 loop,
 * with a first-layer conv (small-cnn, resnet18-gn) and a first-layer linear, is in StrategyExactnessTest,
 * Conv2dRuleTest and LinearRuleTest.
 */
class TapeTest {
    @Test
    void firstLeafIsTheOutputItselfAndLaterLeavesAreAddedZeros() {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelRuntime.withGrad(() -> {
                Tape tape = new Tape(m, 2, 1);
                NDArray x = m.arange(24f).reshape(2, 3, 4).div(7).toType(DataType.FLOAT64, false);
                NDArray y1 = x.mul(3); // no autograd history: the first leaf is y1 itself
                NDArray[] first = tape.withLeaf(y1);
                assertSame(y1, first[1], "the first output is the leaf");
                assertNotSame(y1, first[0], "the next op reads a handle of its own (Op.chain may close it)");
                assertArrayEquals(y1.toDoubleArray(), first[0].toDoubleArray());
                NDArray y2 = first[0].square(); // has history now: a zero leaf is added
                double[] y2Values = y2.toDoubleArray();
                NDArray[] second = tape.withLeaf(y2);
                assertNotSame(y2, second[1], "a later output gets a zero leaf of its own");
                assertArrayEquals(y2Values, second[0].toDoubleArray());
                NDArray w = m.arange(24f).reshape(2, 3, 4).add(1).toType(DataType.FLOAT64, false);
                // L = Σ w·y2 with y2 = y1²: dL/dy2 = w, dL/dy1 = 2·y1·w.
                JniUtils.backward((PtNDArray) second[0].mul(w).sum(), (PtNDArray) m.ones(new Shape()), false, false);
                assertArrayEquals(w.toDoubleArray(), second[1].getGradient().toDoubleArray());
                assertArrayEquals(
                        y1.mul(2).mul(w).toDoubleArray(), first[1].getGradient().toDoubleArray(), 0.0);
                assertEquals(DataType.FLOAT64, first[1].getGradient().getDataType());
                return null;
            });
        }
    }

    /**
     * On a tape that cuts ({@link GraphCuts}), a later output's leaf is the output detached (same values, no
     * history, requiring a gradient), the backward pass from the loss stops there, and
     * {@link Tape#backwardThroughCuts} carries each cut leaf's gradient on, last cut first: every leaf's gradient is
     * the zero-leaf tape's, bit for bit, and the earlier leaves got none before it ran.
     */
    @Test
    void aCutTapeGivesTheZeroLeafTapesGradientsAfterItsSegments() {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelRuntime.withGrad(() -> {
                double[][] want = null;
                for (boolean cut : new boolean[] {false, true}) {
                    Tape tape = new Tape(m, 2, 1, cut);
                    NDArray x = m.arange(24f).reshape(2, 3, 4).div(7).toType(DataType.FLOAT64, false);
                    NDArray[] first = tape.withLeaf(x.mul(3)); // the first leaf: never a cut
                    NDArray y2 = first[0].square();
                    NDArray[] second = tape.withLeaf(y2);
                    NDArray y3 = second[0].sin().mul(2);
                    NDArray[] third = tape.withLeaf(y3);
                    assertEquals(cut ? 2 : 0, tape.cuts());
                    if (cut) {
                        assertNotSame(y3, third[1]);
                        assertArrayEquals(y3.toDoubleArray(), third[1].toDoubleArray(), 0.0);
                    }
                    NDArray w = m.arange(24f).reshape(2, 3, 4).add(1).toType(DataType.FLOAT64, false);
                    JniUtils.backward(
                            (PtNDArray) third[0].tanh().mul(w).sum(), (PtNDArray) m.ones(new Shape()), false, false);
                    if (cut) {
                        // The loss's own backward reached only the last cut's leaf.
                        assertThrows(IllegalStateException.class, () -> Tape.gradientOf(second[1]));
                        assertThrows(IllegalStateException.class, () -> Tape.gradientOf(first[1]));
                    }
                    tape.backwardThroughCuts();
                    if (cut) {
                        // Each cut's y and leaf are closed once its segment has run (y's storage is then freed as
                        // without the cut); the tap takes the gradient from the tape.
                        assertTrue(
                                second[1].isReleased() && third[1].isReleased() && y2.isReleased() && y3.isReleased());
                        assertFalse(first[1].isReleased(), "the first leaf is no cut");
                        assertThrows(IllegalStateException.class, tape::backwardThroughCuts);
                    }
                    double[][] got = {
                        tape.takeGradient(first[1]).toDoubleArray(),
                        tape.takeGradient(second[1]).toDoubleArray(),
                        tape.takeGradient(third[1]).toDoubleArray()
                    };
                    if (want == null) want = got;
                    else for (int i = 0; i < 3; i++) assertArrayEquals(want[i], got[i], 0.0, "leaf " + i);
                }
                return null;
            });
        }
    }

    @Test
    void aPerRowLeafMadeFirstMeansTheNextOutputGetsAZeroLeaf() {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelRuntime.withGrad(() -> {
                Tape tape = new Tape(m, 2, 1);
                NDArray rows = tape.perRowLeaf(m.ones(new Shape(1, 3)).mul(2), 2); // a GroupNorm before any conv
                NDArray y = m.arange(6f).reshape(2, 3).mul(rows); // has history through the row leaf
                NDArray[] yz = tape.withLeaf(y);
                assertNotSame(y, yz[1], "an output with history must not become the leaf");
                JniUtils.backward((PtNDArray) yz[0].sum(), (PtNDArray) m.ones(new Shape()), false, false);
                assertArrayEquals(
                        new float[] {1, 1, 1, 1, 1, 1}, yz[1].getGradient().toFloatArray());
                assertArrayEquals(
                        new float[] {0, 1, 2, 3, 4, 5}, rows.getGradient().toFloatArray());
                return null;
            });
        }
    }

    /**
     * A leaf the loss does not reach (what a leaf placed on an output with autograd history becomes) is refused
     * by {@link Tape#gradientOf}, where DJL's own {@code getGradient} hands back zeros that would pass as a
     * per-sample gradient of zero (review of session 9); a reached leaf's gradient is returned as it is.
     */
    @Test
    void aLeafTheLossDoesNotReachIsRefused() {
        try (NDManager m = NDManager.newBaseManager()) {
            ModelRuntime.withGrad(() -> {
                Tape tape = new Tape(m, 2, 1);
                NDArray[] used = tape.withLeaf(m.arange(6f).reshape(2, 3));
                NDArray[] cut = tape.withLeaf(m.ones(new Shape(2, 3)));
                JniUtils.backward((PtNDArray) used[0].mul(3).sum(), (PtNDArray) m.ones(new Shape()), false, false);
                assertArrayEquals(
                        new float[] {3, 3, 3, 3, 3, 3}, Tape.gradientOf(used[1]).toFloatArray());
                assertEquals(0f, cut[1].getGradient().sum().getFloat(), "DJL's own call: zeros, silently");
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> Tape.gradientOf(cut[1]));
                assertEquals("a tap's leaf got no gradient in the backward pass", e.getMessage());
                return null;
            });
        }
    }

    /**
     * {@link Tape#perRowLeaf} is a copy of its own, not a view of the parameter: a later write to the parameter
     * (the optimiser's in-place update) leaves the step's rows as they were (a stride-0 broadcast view of the
     * parameter passed every other test; review of session 10, SHOULD 2).
     */
    @Test
    void perRowLeavesAreCopiesOfTheirOwn() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray p = m.arange(3f).reshape(1, 3).add(1); // [1, 2, 3]
            NDArray rows = ModelRuntime.withGrad(() -> new Tape(m, 2, 1).perRowLeaf(p, 2));
            ModelRuntime.withoutGrad(() -> p.addi(10));
            assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, rows.toFloatArray(), "the rows kept the step's values");
            assertEquals(new Shape(2, 3), rows.getShape());
        }
    }
}
