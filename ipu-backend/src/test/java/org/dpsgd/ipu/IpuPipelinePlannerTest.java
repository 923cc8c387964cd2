package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.dpsgd.ipu.IpuMemoryPlanner.Precision;
import org.dpsgd.ipu.IpuMemoryPlanner.Verdict;
import org.dpsgd.ipu.IpuPipelinePlanner.Plan;
import org.dpsgd.ipu.IpuPipelinePlanner.Stage;
import org.dpsgd.ipu.IpuPipelinePlanner.Unit;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;

/**
 * The pipeline split of `dpsgd ipu plan`: stages are contiguous, cover the network once, each fits an
 * IPU, the stage count is the smallest that fits (checked against an exhaustive search over all
 * contiguous splits with one stage fewer), and IPUs per replica are a power of two.
 */
class IpuPipelinePlannerTest {
    private static final Network RESNET50 = ModelZoo.build(ModelSpec.of("resnet50-gn"), new Shape(3, 224, 224), 1000);
    private static final Network RESNET50_448 =
            ModelZoo.build(ModelSpec.of("resnet50-gn"), new Shape(3, 448, 448), 1000);

    @Test
    void resnet50GnAt224WithLargerMicroBatchesIsSplitIntoStagesThatFit() {
        for (int m : new int[] {2, 4}) {
            IpuMemoryPlanner.Estimate one = estimate(RESNET50, m, Precision.FP16);
            assertTrue(one.verdict() != Verdict.FITS, one.render());
            Plan p = IpuPipelinePlanner.propose(RESNET50, m, 1, Precision.FP16);
            assertTrue(p.feasible(), p.render());
            assertTrue(p.stages().size() >= 2, p.render());
            checkPlan(RESNET50, p);
            assertNoFewerStagesFit(RESNET50, m, Precision.FP16, p.stages().size());
        }
    }

    @Test
    void largerModelsThatDoNotFitOneIpuAtMicroBatchOneGetAPipeline() {
        IpuMemoryPlanner.Estimate e = estimate(RESNET50_448, 1, Precision.FP32);
        assertEquals(Verdict.NEEDS_PIPELINING, e.verdict(), e.render());
        Plan p = IpuPipelinePlanner.propose(RESNET50_448, 1, 1, Precision.FP32);
        assertTrue(p.feasible() && p.stages().size() >= 2, p.render());
        checkPlan(RESNET50_448, p);
        assertNoFewerStagesFit(RESNET50_448, 1, Precision.FP32, p.stages().size());
    }

    @Test
    void aRequestedStageCountIsHonouredAndRoundedToAPowerOfTwoOfIpus() {
        Plan three = IpuPipelinePlanner.propose(RESNET50, 3, 1, 1, Precision.FP16);
        assertEquals(3, three.stages().size(), three.render());
        assertEquals(4, three.ipusPerReplica(), "Poplar offers IPU groups of powers of two");
        checkPlan(RESNET50, three);
        assertTrue(three.render().contains("3 stage(s) on 4 IPU(s) per replica"), three.render());
        assertThrows(
                IllegalArgumentException.class, () -> IpuPipelinePlanner.propose(RESNET50, 17, 1, 1, Precision.FP16));
        Network tiny = ModelZoo.build(ModelSpec.of("small-cnn"), new Shape(1, 8, 8), 10);
        assertThrows(IllegalArgumentException.class, () -> IpuPipelinePlanner.propose(tiny, 16, 1, 1, Precision.FP32));
    }

    @Test
    void laterStagesHoldMorePerSampleGradientsAndEarlierStagesMoreActivations() {
        // The same units cost more as the last stage (gradients held until stage 0's backward) than as the first
        // when they have many parameters and few activations (the classifier), and the reverse for the stem.
        List<Unit> units = IpuPipelinePlanner.units(RESNET50);
        int n = units.size();
        long fcFirst = IpuPipelinePlanner.stageBytes(units, n - 1, n, 0, 4, RESNET50, 2, 1, Precision.FP16);
        long fcLast = IpuPipelinePlanner.stageBytes(units, n - 1, n, 3, 4, RESNET50, 2, 1, Precision.FP16);
        assertTrue(fcLast > fcFirst);
        long stemFirst = IpuPipelinePlanner.stageBytes(units, 0, 1, 0, 4, RESNET50, 2, 1, Precision.FP16);
        long stemLast = IpuPipelinePlanner.stageBytes(units, 0, 1, 3, 4, RESNET50, 2, 1, Precision.FP16);
        assertTrue(stemFirst > stemLast);
    }

    private static IpuMemoryPlanner.Estimate estimate(Network net, int m, Precision p) {
        return IpuMemoryPlanner.estimate(new IpuMemoryPlanner.Request(net, m, 1, p, true, false));
    }

    /** Contiguous, in order, covering every unit once; parameters add up; every stage fits; IPUs a power of two >= stages. */
    private static void checkPlan(Network net, Plan p) {
        List<Unit> units = IpuPipelinePlanner.units(net);
        int next = 0;
        long params = 0;
        for (int i = 0; i < p.stages().size(); i++) {
            Stage s = p.stages().get(i);
            assertEquals(i, s.index());
            assertEquals(next, s.from(), p.render());
            assertTrue(s.to() > s.from(), p.render());
            assertTrue(s.bytes() <= p.capacityBytes(), p.render());
            params += s.parameters();
            next = s.to();
        }
        assertEquals(units.size(), next, "every top-level layer in exactly one stage");
        assertEquals(net.parameterCount(), params);
        assertEquals(1, Integer.bitCount(p.ipusPerReplica()));
        assertTrue(p.ipusPerReplica() >= p.stages().size()
                && p.ipusPerReplica() < 2 * p.stages().size());
    }

    /** Exhaustive: no contiguous split into stages - 1 stages has every stage within capacity. */
    private static void assertNoFewerStagesFit(Network net, int m, Precision precision, int stages) {
        List<Unit> units = IpuPipelinePlanner.units(net);
        assertFalse(
                anySplitFits(units, 0, 0, stages - 1, net, m, precision),
                "a split into " + (stages - 1) + " stages fits");
    }

    private static boolean anySplitFits(
            List<Unit> units, int from, int stage, int stages, Network net, int m, Precision precision) {
        int n = units.size();
        if (stage == stages - 1) {
            return IpuPipelinePlanner.stageBytes(units, from, n, stage, stages, net, m, 1, precision)
                    <= IpuMemoryPlanner.usable();
        }
        for (int to = from + 1; to <= n - (stages - stage - 1); to++) {
            if (IpuPipelinePlanner.stageBytes(units, from, to, stage, stages, net, m, 1, precision)
                    > IpuMemoryPlanner.usable()) continue;
            if (anySplitFits(units, to, stage + 1, stages, net, m, precision)) return true;
        }
        return false;
    }
}
