package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ConfigWarnings;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every shipped experiment config loads, validates and builds its model, so the files cannot rot. */
class ExperimentConfigsTest {
    static Stream<Path> configs() throws IOException {
        Path dir = Path.of(System.getProperty("user.dir")).resolve("configs");
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 5, "expected the five experiment configs in " + dir);
        return files.stream();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void loadsAndBuildsItsModel(Path file) throws IOException {
        ExperimentConfig cfg = ConfigLoader.load(file);
        Shape input = switch (cfg.data().format()) {
            case "idx" -> new Shape(1, 28, 28);
            case "cifar10", "cifar100" -> new Shape(3, 32, 32);
            default -> new Shape(3, cfg.data().imageSize(), cfg.data().imageSize());
        };
        int classes = cfg.data().format().equals("cifar100")
                ? 100
                : cfg.data().format().equals("imagefolder") ? 1000 : 10;
        Network net = ModelZoo.build(cfg.model(), input, classes);
        assertTrue(net.parameterCount() > 0);
        String text = Files.readString(file);
        assertTrue(text.startsWith("#"), file + " starts with a comment saying what it is and how to run it");
        assertTrue(text.contains("--set"), file + " documents a reduced-scale run");
        assertEquals(cfg, ConfigLoader.parse(ConfigLoader.toYaml(cfg), "round trip"));
        // No privacy warning at the real dataset's size (e.g. δ must stay below 1/N).
        int n = switch (cfg.data().format()) {
            case "idx" -> 60_000;
            case "cifar10", "cifar100" -> 50_000;
            default -> 1_281_167; // ImageNet-1k train
        };
        assertEquals(List.of(), ConfigWarnings.check(cfg, n), file.toString());
    }
}
