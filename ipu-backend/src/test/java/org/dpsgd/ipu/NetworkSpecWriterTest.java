package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.dpsgd.model.Layer;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/** The text format of docs/ipu.md, checked against hand-written expectations (NativeCodeTest checks the C++ reader). */
class NetworkSpecWriterTest {

    @Test
    void smallCnnMatchesTheDocumentedFormat() {
        Network net = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 4, 4), 3);
        // Parameters by hand: conv1 16*1*3*3 + 16 = 160, gn1 2*16 = 32, conv2 32*16*3*3 + 32 = 4640,
        // gn2 2*32 = 64, fc 32*3 + 3 = 99: 4995.
        String expected = """
                dpsgd-network v1
                name small-cnn
                input 1 4 4
                classes 3
                conv conv1 1 16 3 1 1 1 0
                groupnorm gn1 16 4 1.0E-5
                relu
                maxpool 2 2 0
                conv conv2 16 32 3 1 1 1 0
                groupnorm gn2 32 8 1.0E-5
                relu
                maxpool 2 2 0
                flatten
                linear fc 32 3 1
                params 4995
                """;
        assertEquals(expected, NetworkSpecWriter.write(net));
    }

    @Test
    void residualBlocksNestWithMainThenShortcut() {
        Layer.Residual identity =
                new Layer.Residual("r0", List.of(new Layer.Conv2d("r0.c", 2, 2, 3, 1, 1, false, false)), List.of());
        Layer.Residual down = new Layer.Residual(
                "r1",
                List.of(
                        new Layer.Conv2d("r1.c", 2, 4, 3, 2, 1, false, false),
                        new Layer.Activation(Layer.ActivationKind.TANH)),
                List.of(new Layer.Conv2d("r1.d", 2, 4, 1, 2, 0, false, false)));
        Network net = new Network(
                "tiny", new Shape(2, 4, 4), 4, List.of(identity, down, new Layer.GlobalAvgPool(), new Layer.Flatten()));
        String expected = """
                dpsgd-network v1
                name tiny
                input 2 4 4
                classes 4
                residual r0
                main
                conv r0.c 2 2 3 1 1 0 0
                shortcut
                end
                residual r1
                main
                conv r1.c 2 4 3 2 1 0 0
                tanh
                shortcut
                conv r1.d 2 4 1 2 0 0 0
                end
                globalavgpool
                flatten
                params 116
                """;
        // 2*2*9 = 36, 4*2*9 = 72, 4*2*1 = 8: 116
        assertEquals(expected, NetworkSpecWriter.write(net));
    }
}
