package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dpsgd.backend.Availability;
import org.dpsgd.backend.BackendOptions;
import org.dpsgd.backend.BackendProvider;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.ipu.IpuMemoryPlanner.Precision;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/** Discovery, availability reasons, settings and the refusals of what the native graph does not implement. */
class IpuBackendProviderTest {

    @Test
    void isFoundThroughServiceLoaderWithRank100() {
        BackendProvider p = Backends.providers().stream()
                .filter(x -> x.name().equals("ipu"))
                .findFirst()
                .orElseThrow();
        assertEquals(100, p.rank());
        assertTrue(p instanceof IpuBackendProvider);
    }

    @Test
    void availabilityOnThisMachineNamesTheMissingPieceAndNeverThrows() {
        Availability a = new IpuBackendProvider().availability();
        if (System.getenv("POPLAR_SDK_ENABLED") == null && !IpuAvailability.onPath("popc")) {
            assertFalse(a.available());
            assertEquals(IpuAvailability.NO_SDK, a.reason());
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> new IpuBackendProvider().open(new BackendOptions("ipu", Map.of())));
            assertTrue(e.getMessage().contains("Poplar SDK not found"), e.getMessage());
        }
    }

    @Test
    void availabilityChecksSdkThenLibraryThenDevices() {
        AtomicBoolean loaded = new AtomicBoolean();
        Availability noSdk = IpuAvailability.check(
                Map.of(),
                exe -> false,
                () -> {
                    loaded.set(true);
                    return null;
                },
                () -> 4,
                () -> null);
        assertEquals(IpuAvailability.NO_SDK, noSdk.reason());
        assertFalse(loaded.get(), "the native library must not be touched without an SDK");

        Availability badLib = IpuAvailability.check(
                Map.of("POPLAR_SDK_ENABLED", "/opt/poplar"),
                exe -> false,
                () -> "UnsatisfiedLinkError: no jnidpsgd_ipu",
                () -> 4,
                () -> null);
        assertEquals("native library failed to load: UnsatisfiedLinkError: no jnidpsgd_ipu", badLib.reason());

        Availability noDevice =
                IpuAvailability.check(Map.of(), exe -> exe.equals("popc"), () -> null, () -> 0, () -> "");
        assertFalse(noDevice.available());
        assertEquals(IpuAvailability.NO_DEVICE, noDevice.reason());

        Availability model = IpuAvailability.check(
                Map.of("POPLAR_SDK_ENABLED", "/opt/p", "DPSGD_IPU_MODEL", "1"),
                exe -> false,
                () -> null,
                () -> 0,
                () -> null);
        assertTrue(model.available());
        assertTrue(model.reason().startsWith("IPU Model simulator"), model.reason());
        Availability modelNoSdk =
                IpuAvailability.check(Map.of("DPSGD_IPU_MODEL", "1"), exe -> false, () -> null, () -> 0, () -> null);
        assertEquals(IpuAvailability.NO_SDK, modelNoSdk.reason());

        Availability yes = IpuAvailability.check(
                Map.of("POPLAR_SDK_ENABLED", "/opt/poplar-3.3"), exe -> false, () -> null, () -> 16, () -> null);
        assertTrue(yes.available());
        assertEquals("16 IPUs, Poplar SDK /opt/poplar-3.3", yes.reason());
    }

    @Test
    void settingsAreValidatedAndBecomeNativeOptions() {
        IpuSettings s = IpuSettings.parse(Map.of(
                "replicas",
                "4",
                "precision",
                "fp16",
                "available_memory_proportion",
                "0.3",
                "executable_cache",
                "/tmp/exe",
                "threads",
                "2"));
        assertEquals(4, s.replicas());
        assertEquals(Precision.FP16, s.precision());
        String opts = s.toNativeOptions(new BatchLayout(1, 8, 4), 2);
        assertEquals(
                List.of(
                        "replicas=4",
                        "micro_batch_size=1",
                        "accumulation=8",
                        "multiplicity=2",
                        "precision=fp16",
                        "stochastic_rounding=true",
                        "available_memory_proportion=0.3",
                        "loss_scale=128",
                        "executable_cache=/tmp/exe",
                        "update=host"),
                opts.lines().toList());
        assertTrue(s.toNativeOptions(new BatchLayout(1, 8, 4), 2, true, new int[] {0, 3})
                .endsWith("frozen=0,3\nexecutable_cache=/tmp/exe\nupdate=host\nipu_model=true\n"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("replica", "2")))
                .getMessage()
                .contains("unknown IPU backend setting 'replica'"));
        assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("precision", "bf16")));
        assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("replicas", "0")));
        // Poplar's device manager only offers power-of-two groups of IPUs.
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("replicas", "12")))
                .getMessage()
                .contains("power of two"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("replicas", "12")))
                .getMessage()
                .contains("use 8 or 16"));
        for (int r : new int[] {1, 2, 4, 8, 16, 64})
            assertEquals(r, IpuSettings.parse(Map.of("replicas", "" + r)).replicas());
        // Static loss scaling: fp16 only, powers of two (exact to divide out), 128 by default.
        assertEquals(1, IpuSettings.parse(Map.of()).lossScale());
        assertEquals(
                1024,
                IpuSettings.parse(Map.of("precision", "fp16", "loss_scale", "1024"))
                        .lossScale());
        assertThrows(
                IllegalArgumentException.class,
                () -> IpuSettings.parse(Map.of("precision", "fp16", "loss_scale", "100")));
        assertThrows(
                IllegalArgumentException.class,
                () -> IpuSettings.parse(Map.of("precision", "fp16", "loss_scale", "65536")));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("loss_scale", "128")))
                .getMessage()
                .contains("fp16"));
        assertThrows(
                IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("available_memory_proportion", "1.2")));
        assertThrows(IllegalArgumentException.class, () -> IpuSettings.parse(Map.of("stochastic_rounding", "yes")));
        assertThrows(IllegalArgumentException.class, () -> s.toNativeOptions(new BatchLayout(1, 8, 2), 1));
        assertEquals(
                3,
                IpuBackend.multiplicity(new ModelOptions(null, BatchLayout.of(1), null, Map.of("multiplicity", "3"))));
        assertEquals(
                1,
                IpuBackend.multiplicity(new ModelOptions(null, BatchLayout.of(1), null, Map.of("dtype", "float32"))));
        assertThrows(
                IllegalArgumentException.class,
                () -> IpuBackend.multiplicity(
                        new ModelOptions(null, BatchLayout.of(1), null, Map.of("multiplicity", "0"))));
    }

    @Test
    void refusesOnlyWhatTheNativeGraphDoesNotImplement() {
        BatchLayout l = BatchLayout.of(1);
        Network plain = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 28, 28), 10);
        assertThrows(
                IllegalArgumentException.class,
                () -> IpuBackend.checkSupported(plain, new ModelOptions("bookkeeping", l, null, null)));
        IpuBackend.checkSupported(plain, new ModelOptions("microbatch", l, null, null));
        // Weight standardisation and frozen layers are in the graph now (cifar10-wrn16-4 uses both).
        Network ws = ModelZoo.build(new ModelSpec("wrn16-4", "cifar", null, null, true), new Shape(3, 32, 32), 10);
        IpuBackend.checkSupported(ws, new ModelOptions(null, l, List.of("conv1"), null));
        assertTrue(NetworkSpecWriter.write(ws).contains(" 1\n"), "weight_standardized flags reach the native spec");
    }

    @Test
    void frozenPrefixesBecomeTensorIndices() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 28, 28), 10);
        BatchLayout l = BatchLayout.of(1);
        int[] frozen = IpuBackend.frozenTensors(net, new ModelOptions(null, l, List.of("conv1", "gn1"), null));
        List<String> names = java.util.Arrays.stream(frozen)
                .mapToObj(i -> net.parameters().get(i).name())
                .toList();
        assertTrue(names.stream().allMatch(n -> n.startsWith("conv1") || n.startsWith("gn1")), names.toString());
        assertEquals(
                net.parameters().stream()
                        .filter(p -> p.name().startsWith("conv1") || p.name().startsWith("gn1"))
                        .count(),
                frozen.length);
        assertTrue(assertThrows(
                        IllegalArgumentException.class,
                        () -> IpuBackend.frozenTensors(net, new ModelOptions(null, l, List.of("nope"), null)))
                .getMessage()
                .contains("matches no parameter"));
    }

    @Test
    void specWriterRefusesNamesThatWouldBreakTheFormat() {
        Network bad = new Network("two words", new Shape(1, 2, 2), 4, List.of(new org.dpsgd.model.Layer.Flatten()));
        assertThrows(IllegalArgumentException.class, () -> NetworkSpecWriter.write(bad));
    }
}
