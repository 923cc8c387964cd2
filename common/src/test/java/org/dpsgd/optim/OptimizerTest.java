package org.dpsgd.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.stream.Stream;
import org.dpsgd.config.OptimizerConfig;
import org.dpsgd.config.OptimizerKind;
import org.dpsgd.config.ScheduleKind;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Expected values were computed by hand-written numpy (float64) following the update rules in the
 * torch.optim.SGD / Adam / AdamW documentation, from p0 = [0.5, -1, 2], lr 0.1 and three fixed gradients.
 */
class OptimizerTest {
    private static final float[] P0 = {0.5f, -1f, 2f};
    private static final float[][] GRADS = {{0.1f, -0.2f, 0.3f}, {-0.4f, 0.05f, 0.2f}, {0.3f, 0.3f, -0.1f}};

    private static OptimizerConfig config(String name, double momentum, boolean nesterov, double wd) {
        return new OptimizerConfig(
                OptimizerKind.parse("optimizer.name", name),
                0.1,
                momentum,
                nesterov,
                wd,
                null,
                null,
                null,
                null,
                null,
                null);
    }

    static Stream<Arguments> torchReference() {
        return Stream.of(
                Arguments.of(
                        config("sgd", 0, false, 0),
                        new double[][] {{0.49, -0.98, 1.97}, {0.53, -0.985, 1.95}, {0.5, -1.015, 1.96}}),
                Arguments.of(config("sgd", 0.9, false, 0.01), new double[][] {
                    {0.4895, -0.979, 1.968}, {0.5195605, -0.964121, 1.917232}, {0.5160953895, -0.979765779, 1.879623568}
                }),
                Arguments.of(config("sgd", 0.9, true, 0.01), new double[][] {
                    {0.48005, -0.9601, 1.9392},
                    {0.546632905, -0.95076581, 1.87159552},
                    {0.5129509619804999, -0.993922673961, 1.845940736512}
                }),
                Arguments.of(config("adam", 0, false, 0.01), new double[][] {
                    {0.4000000095238086, -0.9000000047619046, 1.900000003125},
                    {0.4547652920676923, -0.8485031007215733, 1.8026712699716936},
                    {0.45060952202141463, -0.8764803240852214, 1.7422884757624673}
                }),
                Arguments.of(config("adamw", 0, false, 0.1), new double[][] {
                    {0.39500000999999896, -0.8900000049999998, 1.8800000033333333},
                    {0.44700035738512833, -0.8341531910504468, 1.76416479429677},
                    {0.4398985280389738, -0.8579373491481196, 1.6913339592350178}
                }));
    }

    @ParameterizedTest
    @MethodSource("torchReference")
    void matchesTorchUpdateRules(OptimizerConfig c, double[][] expected) {
        Optimizer o = Optimizers.create(c, TrainableMask.all(3));
        float[] p = P0.clone();
        for (int t = 0; t < 3; t++) {
            o.step(p, GRADS[t].clone(), 0.1);
            for (int i = 0; i < 3; i++)
                assertEquals(expected[t][i], p[i], 2e-6, c.name() + " step " + (t + 1) + " coordinate " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("torchReference")
    void exportedStateContinuesIdentically(OptimizerConfig c, double[][] ignored) {
        Optimizer a = Optimizers.create(c, TrainableMask.all(3));
        float[] p = P0.clone();
        a.step(p, GRADS[0].clone(), 0.1);
        OptimizerState saved = a.exportState();
        float[] q = p.clone();
        a.step(p, GRADS[1].clone(), 0.1);
        Optimizer b = Optimizers.create(c, TrainableMask.all(3));
        b.importState(saved);
        b.step(q, GRADS[1].clone(), 0.1);
        assertArrayEquals(p, q);
    }

    @Test
    void frozenCoordinatesAreNeverUpdatedEvenByWeightDecay() {
        Network net = new Network(
                "t",
                new Shape(2, 1, 1),
                2,
                List.of(new Layer.Linear("a", 2, 2, true), new Layer.Linear("b", 2, 2, true)));
        TrainableMask mask = TrainableMask.of(net, List.of("a."));
        assertEquals(6, mask.trainableCount());
        for (String name : List.of("sgd", "adamw")) {
            Optimizer o = Optimizers.create(config(name, name.equals("sgd") ? 0.9 : 0, false, 0.5), mask);
            float[] p = new float[12];
            java.util.Arrays.fill(p, 1f);
            float[] g = new float[12];
            java.util.Arrays.fill(g, 0.3f);
            o.step(p, g, 0.1);
            for (int i = 0; i < 6; i++) assertEquals(1f, p[i], "frozen coordinate " + i);
            for (int i = 6; i < 12; i++) assertEquals(false, p[i] == 1f, "trainable coordinate " + i);
        }
        assertThrows(IllegalArgumentException.class, () -> TrainableMask.of(net, List.of("conv1")));
    }

    @Test
    void stateOfAnotherOptimizerIsRefused() {
        OptimizerState s = Optimizers.create(config("adam", 0, false, 0), TrainableMask.all(3))
                .exportState();
        assertThrows(
                IllegalArgumentException.class,
                () -> Optimizers.create(config("sgd", 0, false, 0), TrainableMask.all(3))
                        .importState(s));
        assertThrows(
                IllegalArgumentException.class,
                () -> Optimizers.create(config("adam", 0, false, 0), TrainableMask.all(4))
                        .importState(s));
    }

    @Test
    void schedules() {
        LearningRateSchedule constant = new LearningRateSchedule(ScheduleKind.CONSTANT, 0.4, 0, 4, 100);
        assertEquals(0.1, constant.at(0), 1e-15);
        assertEquals(0.4, constant.at(3), 1e-15);
        assertEquals(0.4, constant.at(99), 1e-15);
        LearningRateSchedule cosine = new LearningRateSchedule(ScheduleKind.COSINE, 1.0, 0.1, 0, 10);
        assertEquals(1.0, cosine.at(0), 1e-15);
        assertEquals(0.55, cosine.at(5), 1e-12); // halfway: min + (lr - min)/2
        assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * 0.9)), cosine.at(9), 1e-12);
        LearningRateSchedule warm = new LearningRateSchedule(ScheduleKind.COSINE, 2.0, 0, 2, 12);
        assertEquals(1.0, warm.at(0), 1e-15);
        assertEquals(2.0, warm.at(2), 1e-15);
        assertEquals(1.0, warm.at(7), 1e-12);
        assertThrows(
                IllegalArgumentException.class, () -> new LearningRateSchedule(ScheduleKind.CONSTANT, 1, 0, 20, 10));
        assertThrows(IllegalArgumentException.class, () -> ScheduleKind.parse("optimizer.schedule", "step"));
    }
}
