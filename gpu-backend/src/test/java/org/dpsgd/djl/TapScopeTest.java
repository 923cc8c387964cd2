package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link TapScope}: a tap phase's temporaries are freed when it returns, not at the end of the
 * step, while the arrays it keeps survive until the enclosing (step) scope closes.
 */
class TapScopeTest {
    @Test
    void temporariesAreFreedAtOnceAndKeptArraysLiveUntilTheStepEnds() {
        TestSupport.backend(); // engine set up as in every other test of this module
        try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
            NDArray x = m.ones(new ai.djl.ndarray.types.Shape(4, 4));
            NDArray[] kept = new NDArray[1];
            NDArray[] temp = new NDArray[1];
            try (NDScope step = new NDScope()) {
                step.suppressNotUsedWarning();
                int before = m.getManagedArrays().size();
                TapScope.run(
                        () -> {
                            temp[0] = x.mul(2).add(1); // two arrays: x·2 and x·2 + 1
                            kept[0] = temp[0].sum();
                        },
                        () -> List.of(kept[0]));
                assertEquals(before + 1, m.getManagedArrays().size(), "only the kept array outlives the phase");
                assertTrue(temp[0].isReleased(), "a temporary must be closed when the phase returns");
                assertEquals(48f, kept[0].getFloat(), "the kept value is intact");
                NDArray one = TapScope.one(() -> x.mul(3).sum());
                assertEquals(before + 2, m.getManagedArrays().size(), "one() keeps its result and nothing else");
                assertEquals(48f, one.getFloat());
            }
            assertTrue(kept[0].isReleased(), "a kept array belongs to the step and is closed with it");
            assertFalse(x.isReleased(), "arrays made before the step are untouched");
        }
    }
}
