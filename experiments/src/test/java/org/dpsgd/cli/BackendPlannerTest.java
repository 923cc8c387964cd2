package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.dpsgd.UserError;
import org.dpsgd.backend.Backends;
import org.dpsgd.config.ConfigLoader;
import org.junit.jupiter.api.Test;

/** `dpsgd ipu plan` reaches the IPU backend's planner through the backend SPI (experiments imports no backend). */
class BackendPlannerTest {
    @Test
    void theIpuBackendPlansThroughTheSpiAndOthersSayWhyNot() {
        String plan = Backends.planner("ipu")
                .plan(
                        ConfigLoader.parse(
                                CommandsTest.TINY.replace("backend: {name: djl, device: cpu}", "backend: {name: ipu}"),
                                "t.yaml"),
                        null,
                        null,
                        null);
        assertTrue(plan.contains("slots per device call"), plan);
        UserError none = assertThrows(UserError.class, () -> Backends.planner("djl"));
        assertEquals("the djl backend has no planner (nothing to plan)", none.getMessage());
        UserError missing = assertThrows(UserError.class, () -> Backends.planner("tpu"));
        assertTrue(missing.getMessage().startsWith("the tpu backend is not on the class path"), missing.getMessage());
    }
}
