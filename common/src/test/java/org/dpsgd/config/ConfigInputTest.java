package org.dpsgd.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Inputs a new user gets wrong: binary config files and absurd image sizes fail in one line that names the fix. */
class ConfigInputTest {
    @TempDir
    Path dir;

    @Test
    void aBinaryFileIsNamedAsNotAYamlOrJsonTextFile() throws Exception {
        byte[] bytes = new byte[4096];
        new Random(3).nextBytes(bytes); // random bytes are not valid UTF-8 (the decoder said "Input length = 1")
        Path bin = dir.resolve("model.yaml");
        Files.write(bin, bytes);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(bin));
        assertTrue(e.getMessage().startsWith("config file " + bin + " is not a YAML/JSON text file"), e.getMessage());
        assertFalse(e.getMessage().contains("Input length"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));

        // Valid UTF-8 that holds NUL bytes (e.g. a UTF-16 file or a zero-padded binary) is binary too.
        Path nul = dir.resolve("c.json");
        Files.writeString(nul, "name: x\0\0\0");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(nul))
                .getMessage()
                .contains("not a YAML/JSON text file"));
    }

    @ParameterizedTest
    @ValueSource(ints = {50_000, 1_000_000, 26_755})
    void imageSizesBeyondAJavaArrayAreRefusedInOneLine(int size) {
        String yaml = ConfigLoaderTest.VALID.replace("path: /data/fmnist", "path: /data/fmnist\n  image_size: " + size);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConfigLoader.parse(yaml, "t.yaml"));
        assertTrue(
                e.getMessage().startsWith("t.yaml: data.image_size=" + size + " makes one 3x" + size + "x" + size),
                e.getMessage());
        assertTrue(e.getMessage().contains("use at most 26754"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void theImageSizeLimitIsTheLargestSquareRgbImageAJavaArrayHolds() {
        long maxArray = Integer.MAX_VALUE - 8L;
        long s = DataConfig.MAX_IMAGE_SIZE;
        assertTrue(3 * s * s <= maxArray);
        assertTrue(3 * (s + 1) * (s + 1) > maxArray);
        String yaml = ConfigLoaderTest.VALID.replace("path: /data/fmnist", "path: /data/fmnist\n  image_size: " + s);
        assertEquals(
                DataConfig.MAX_IMAGE_SIZE,
                ConfigLoader.parse(yaml, "t.yaml").data().imageSize());
    }

    @Test
    void aFloatImageSizeIsAnIntegerError() {
        String yaml = ConfigLoaderTest.VALID.replace("path: /data/fmnist", "path: /data/fmnist\n  image_size: 1e6");
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> ConfigLoader.parse(yaml, "t.yaml"));
        assertTrue(e.getMessage().contains("data.image_size must be an integer"), e.getMessage());
    }
}
