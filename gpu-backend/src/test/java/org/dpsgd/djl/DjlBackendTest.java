package org.dpsgd.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

class DjlBackendTest {
    @Test
    void registeredThroughServiceLoaderAndAvailable() {
        BackendProvider p = Backends.providers().stream()
                .filter(x -> x.name().equals("djl"))
                .findFirst()
                .orElseThrow();
        assertEquals(10, p.rank());
        Availability a = p.availability();
        assertTrue(a.available(), a.reason());
        assertTrue(a.reason().startsWith("PyTorch 2.7.1 on "), a.reason());
    }

    @Test
    void aRefusedStrategyLeavesNoNativeMemoryBehind() throws Exception {
        DjlBackend b = TestSupport.backend();
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        int before = openChildrenOfSystemManager();
        for (int i = 0; i < 3; i++) {
            assertThrows(
                    IllegalArgumentException.class,
                    () -> b.createModel(net, new ModelOptions("ghostly", BatchLayout.of(4), List.of(), Map.of())));
        }
        assertEquals(before, openChildrenOfSystemManager(), "each refused construction leaked its NDManager");
    }

    /** The engine's system manager keeps every base manager it hands out until that manager is closed. */
    private static int openChildrenOfSystemManager() throws Exception {
        try (NDManager probe = NDManager.newBaseManager()) {
            NDManager system = probe.getParentManager();
            Field resources = BaseNDManager.class.getDeclaredField("resources");
            resources.setAccessible(true);
            return ((Map<?, ?>) resources.get(system)).size() - 1; // minus the probe itself
        }
    }

    @Test
    void deviceSelection() {
        assertEquals(Device.cpu(), DjlBackend.parseDevice("auto", 0));
        assertEquals(Device.gpu(0), DjlBackend.parseDevice("auto", 2));
        assertEquals(Device.gpu(1), DjlBackend.parseDevice("gpu:1", 2));
        assertEquals(Device.cpu(), DjlBackend.parseDevice("cpu", 2));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> DjlBackend.parseDevice("gpu", 0));
        assertTrue(e.getMessage().contains("0 GPU"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DjlBackend.parseDevice("tpu", 0));
        assertThrows(IllegalArgumentException.class, () -> DjlBackend.parseDevice("gpu:x", 1));
    }

    @Test
    void versionsAndBadOptionsAreReported() {
        DjlBackend b = TestSupport.backend();
        assertEquals("2.7.1", b.versions().get("pytorch"));
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        assertThrows(
                IllegalArgumentException.class,
                () -> b.createModel(net, new ModelOptions("ghostly", BatchLayout.of(4), List.of(), Map.of())));
        assertThrows(
                IllegalArgumentException.class,
                () -> b.createModel(net, new ModelOptions("auto", BatchLayout.of(4), List.of("conv9"), Map.of())));
        assertThrows(
                IllegalArgumentException.class,
                () -> b.createModel(
                        net, new ModelOptions("auto", BatchLayout.of(4), List.of(), Map.of("dtype", "int8"))));
        try (var m = b.createModel(net, new ModelOptions("nonprivate", BatchLayout.of(4), List.of(), Map.of()))) {
            var batch = TestSupport.batch(net, 2, 1, 1, 1.0);
            assertThrows(IllegalStateException.class, () -> m.accumulateClipped(batch, 1.0));
        }
    }

    @Test
    void initialParametersComeFromTheSharedInitializer() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10);
        try (var m = TestSupport.model(net, "auto", "float32", List.of())) {
            float[] got = new float[(int) net.parameterCount()];
            m.readParameters(got);
            org.junit.jupiter.api.Assertions.assertArrayEquals(org.dpsgd.model.Initializer.initialize(net, 7), got);
        }
    }
}
