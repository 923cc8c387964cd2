package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.model.Layer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/**
 * The Java mirror of the native clip-margin limits (clip::normSplit): the same splits exist or not
 * (checked against a brute-force search), every zoo model passes, and a tensor the margin does not
 * cover is refused by name before compiling.
 */
class NormReductionTest {
    @Test
    void splitsExistExactlyWhenABoundedFactorisationDoes() {
        for (long n : new long[] {
            1, 4096, 4097, 8192, 8198, 2_359_296, 2_048_000, 4096L * 4096, 4096L * 4096 + 4096, 9408, 4099
        }) {
            boolean brute = n <= 4096;
            for (long a = 1; a <= 4096 && !brute; a++) brute = n % a == 0 && n / a <= 4096;
            assertEquals(brute, NormReduction.splittable(n, 4096), "n = " + n);
        }
        assertFalse(NormReduction.splittable(8198, 4096)); // 2 x prime 4099, as in native_tests
        assertTrue(NormReduction.splittable(512 * 512 * 9, 4096));
    }

    @Test
    void everyZooModelIsCoveredAndAnUncoveredTensorIsRefusedByName() {
        for (String m : List.of("small-cnn", "fmnist-cnn", "resnet18-gn", "resnet34-gn", "resnet50-gn", "wrn16-4")) {
            Shape in = m.endsWith("cnn") ? new Shape(1, 28, 28) : new Shape(3, 224, 224);
            NormReduction.check(ModelZoo.build(ModelSpec.of(m), in, 1000));
        }
        Network odd = new Network(
                "odd", new Shape(4099, 1, 1), 2, List.of(new Layer.Flatten(), new Layer.Linear("fc", 4099, 2, true)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NormReduction.check(odd));
        assertTrue(e.getMessage().contains("fc.weight") && e.getMessage().contains("8198"), e.getMessage());
    }
}
