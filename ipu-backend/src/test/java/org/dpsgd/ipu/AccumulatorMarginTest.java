package org.dpsgd.ipu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.plan.StaticShapePlanner;
import org.dpsgd.train.StepBound;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The IPU's coupling margin (docs/ipu.md "The coupling margin"): the rounding count it assumes against
 * the worst case counted leaf by leaf over the planner's real packing, the sensitivity budget in exact
 * rational arithmetic (an implementation apart from the production one), the lowered bound the device
 * receives, and the refusal exactly at the cap.
 */
class AccumulatorMarginTest {
    private static final long D = 11_000_000; // about resnet18-gn's trainable coordinates

    /** Exact rational p/q (q > 0), enough for the budget: no rounding anywhere. */
    private record Q(BigInteger p, BigInteger q) {
        static Q of(long v) {
            return new Q(BigInteger.valueOf(v), BigInteger.ONE);
        }

        static Q of(BigDecimal v) {
            return v.scale() <= 0
                    ? new Q(v.toBigIntegerExact(), BigInteger.ONE)
                    : new Q(v.unscaledValue(), BigInteger.TEN.pow(v.scale()));
        }

        static Q pow2(int e) {
            return e >= 0
                    ? new Q(BigInteger.ONE.shiftLeft(e), BigInteger.ONE)
                    : new Q(BigInteger.ONE, BigInteger.ONE.shiftLeft(-e));
        }

        Q plus(Q o) {
            return new Q(p.multiply(o.q).add(o.p.multiply(q)), q.multiply(o.q));
        }

        Q minus(Q o) {
            return plus(new Q(o.p.negate(), o.q));
        }

        Q times(Q o) {
            return new Q(p.multiply(o.p), q.multiply(o.q));
        }

        Q over(Q o) {
            return o.p.signum() > 0
                    ? new Q(p.multiply(o.q), q.multiply(o.p))
                    : new Q(p.multiply(o.q).negate(), q.multiply(o.p.negate()));
        }

        int compareTo(Q o) {
            return p.multiply(o.q).compareTo(o.p.multiply(q));
        }
    }

    /** γ_n·T·2 exactly, with n and T counted here from the layout (not by the production code). */
    private static Q exactCoupling(int b, BatchLayout l, int instances, boolean stochastic) {
        return exactCoupling(b, l, instances, stochastic, false);
    }

    private static Q exactCoupling(int b, BatchLayout l, int instances, boolean stochastic, boolean everyCall) {
        long s = (long) l.microBatchSize() * l.accumulation() * l.replicas();
        long calls = everyCall ? 1 : (b + s - 1) / s;
        long micro = Math.min(calls * l.accumulation(), b);
        long n = l.microBatchSize() * micro + (long) instances * l.replicas() - 1;
        Q nu = Q.of(n).times(Q.pow2(stochastic ? -23 : -24));
        Q gamma = nu.over(Q.of(1).minus(nu));
        return gamma.times(Q.of(2L * instances * b));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void theSensitivityStaysBelowCInExactArithmeticWheneverAccepted(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int accepted = 0;
        for (int trial = 0; trial < 200; trial++) {
            BatchLayout l = new BatchLayout(1 + rng.nextInt(8), 1 + rng.nextInt(64), 1 << rng.nextInt(5));
            int instances = 1 << rng.nextInt(3);
            boolean stochastic = rng.nextBoolean();
            int b = 1 + rng.nextInt(2_000);
            double c = Math.exp(rng.nextDouble(-25, 5));
            AccumulatorMargin m = AccumulatorMargin.cheaper(b, l, instances, stochastic, D);
            BigDecimal mu;
            try {
                mu = m.checkedLowering(c);
            } catch (UserError refused) {
                continue;
            }
            accepted++;
            Q kappa = exactCoupling(b, l, instances, stochastic, m.drainEveryCall());
            assertTrue(Q.of(m.coupling()).compareTo(kappa) >= 0, "κ is an upper bound");
            // ν from its definition, √d bounded by 3,317 ≥ √(11·10⁶).
            long w = 2L * instances * l.replicas() * m.microBatches() * (l.microBatchSize() + 1);
            Q nu = Q.of(4 * w).times(Q.pow2(-126)).times(Q.of(3317)).over(Q.of(new BigDecimal(c)));
            Q host = Q.pow2(-15).times(Q.of(1).plus(Q.pow2(-14)));
            // (1 − μ)(1 + κ) + ν + host ≤ 1 − 2^-15 + 2^-29 < 1, with the μ the device actually gets.
            Q total =
                    Q.of(1).minus(Q.of(mu)).times(Q.of(1).plus(kappa)).plus(nu).plus(host);
            Q claimed = Q.of(1).minus(Q.pow2(-15)).plus(Q.pow2(-29));
            assertTrue(total.compareTo(claimed) <= 0, () -> "budget exceeded at " + l + ", B = " + b);
            assertTrue(Q.of(m.sensitivityFactor(c)).compareTo(claimed) <= 0);
            assertTrue(mu.compareTo(new BigDecimal(AccumulatorMargin.CAP)) <= 0);
        }
        assertTrue(accepted > 20, "too few accepted cases to mean anything: " + accepted);
    }

    /**
     * The worst rounding count of any leaf, counted over the planner's packing of a full step (every
     * tree of non-zero leaves a chain), never exceeds n; for one slot per micro-batch on one replica it is n.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14})
    void theRoundingCountCoversEveryLeafOfThePlannersPacking(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int trial = 0; trial < 100; trial++) {
            BatchLayout l = new BatchLayout(1 + rng.nextInt(6), 1 + rng.nextInt(6), 1 << rng.nextInt(3));
            int instances = 1 + rng.nextInt(3);
            int b = 1 + rng.nextInt(300);
            AccumulatorMargin m = new AccumulatorMargin(b, l, instances, false, D);
            AccumulatorMargin perCall = new AccumulatorMargin(b, l, 1, false, D, true);
            // Any draw up to B: the worst is L = B (more leaves, more non-empty micro-batches).
            for (int drawn : new int[] {b, Math.max(1, b / 2), 1}) {
                long worst = worstRoundings(l, drawn, instances, false);
                assertTrue(worst <= m.roundings(), () -> l + " B=" + b + ": " + worst + " > " + m.roundings());
                long worstCall = worstRoundings(l, drawn, 1, true);
                assertTrue(worstCall <= perCall.roundings(), () -> l + " B=" + b + " per call: " + worstCall);
                assertTrue((long) instances * drawn <= m.leaves());
                long realCalls = (drawn + l.slotsPerCall() - 1) / l.slotsPerCall();
                assertTrue(realCalls <= m.calls());
            }
        }
        // Tight to one rounding (the first leaf's own micro-batch adds to a zero accumulator, exactly).
        AccumulatorMargin sequential = new AccumulatorMargin(100, new BatchLayout(1, 7, 1), 1, false, D);
        assertEquals(sequential.roundings() - 1, worstRoundings(new BatchLayout(1, 7, 1), 100, 1, false));
        AccumulatorMargin call = new AccumulatorMargin(100, new BatchLayout(1, 7, 1), 1, false, D, true);
        assertEquals(call.roundings() - 1, worstRoundings(new BatchLayout(1, 7, 1), 100, 1, true));
    }

    /**
     * Per coordinate, every example a non-zero leaf: per replica, each micro-batch with a real slot is a
     * tree over its real slots and the (non-zero) accumulator; a chain is the worst shape. Then GCL over
     * the replicas (all instances; each instance's shard as large as this one's).
     */
    private static long worstRoundings(BatchLayout l, int drawn, int instances, boolean everyCall) {
        StaticShapePlanner planner = new StaticShapePlanner(l);
        int s = l.slotsPerCall();
        int calls = (drawn + s - 1) / s;
        // realPerMicro.get(r) = real slots of each micro-batch replica r runs, in order.
        List<List<Integer>> realPerMicro = new ArrayList<>();
        for (int r = 0; r < l.replicas(); r++) realPerMicro.add(new ArrayList<>());
        for (int c = 0; c < calls; c++) {
            int[] count = new int[l.replicas() * l.accumulation()];
            int inCall = Math.min(s, drawn - c * s);
            for (int k = 0; k < inCall; k++) count[planner.slotOf(k) / l.microBatchSize()]++;
            for (int r = 0; r < l.replicas(); r++)
                for (int a = 0; a < l.accumulation(); a++) realPerMicro.get(r).add(count[r * l.accumulation() + a]);
        }
        long worst = 0;
        int nonZeroReplicas = 0;
        for (List<Integer> micro : realPerMicro) if (micro.stream().anyMatch(x -> x > 0)) nonZeroReplicas++;
        long gcl = (long) instances * nonZeroReplicas - 1;
        for (List<Integer> micro : realPerMicro) {
            boolean accNonZero = false;
            // Roundings a leaf added in micro-batch k sees: its own tree's chain, then each later non-empty one's.
            long[] depth = new long[micro.size()];
            for (int k = 0; k < micro.size(); k++) {
                if (everyCall && k % l.accumulation() == 0) accNonZero = false; // drained: restarts at 0
                int leaves = micro.get(k) + (accNonZero ? 1 : 0);
                depth[k] = micro.get(k) == 0 ? 0 : leaves - 1;
                if (micro.get(k) > 0) accNonZero = true;
            }
            for (int k = 0; k < micro.size(); k++) {
                if (micro.get(k) == 0) continue;
                long path = depth[k];
                int end = everyCall ? (k / l.accumulation() + 1) * l.accumulation() : micro.size();
                for (int j = k + 1; j < end; j++) if (micro.get(j) > 0) path += micro.get(j); // acc + slots
                worst = Math.max(worst, path + gcl);
            }
        }
        return worst;
    }

    @Test
    void theCapRefusesExactlyWhereTheExactCouplingPassesIt() {
        for (BatchLayout l : List.of(
                new BatchLayout(1, 1, 1),
                new BatchLayout(1, 64, 1),
                new BatchLayout(4, 8, 1),
                new BatchLayout(1, 64, 16))) {
            for (int instances : new int[] {1, 4}) {
                for (boolean stochastic : new boolean[] {false, true}) {
                    int limit = 0;
                    for (int b = 1; b < 1 << 20; b++) {
                        Q mu = exactCoupling(b, l, instances, stochastic).plus(Q.pow2(-14));
                        if (mu.compareTo(Q.pow2(-6)) > 0) break;
                        limit = b;
                    }
                    int at = limit;
                    AccumulatorMargin ok = new AccumulatorMargin(at, l, instances, stochastic, D);
                    assertDoesNotThrow(ok::checkCoupling, () -> l + " at " + at);
                    assertDoesNotThrow(() -> ok.checkedLowering(1.0));
                    AccumulatorMargin over = new AccumulatorMargin(at + 1, l, instances, stochastic, D);
                    UserError e = assertThrows(UserError.class, over::checkCoupling, () -> l + " at " + (at + 1));
                    assertTrue(
                            e.getMessage().contains("training.batch_size")
                                    && e.getMessage().contains("backend djl"),
                            e.getMessage());
                    assertTrue(!e.getMessage().contains("\n"), "one line");
                }
            }
        }
        // One replica, one slot per micro-batch: n = B, so 2·B²·2^-24·(1 + ...) + 2^-14 ≤ 2^-6 up to B = 361.
        assertDoesNotThrow(new AccumulatorMargin(361, new BatchLayout(1, 8, 1), 1, false, D)::checkCoupling);
        assertThrows(UserError.class, new AccumulatorMargin(362, new BatchLayout(1, 8, 1), 1, false, D)::checkCoupling);
    }

    /** The brief's example (B = 4,096 on CIFAR-10, B_cap = 4,840, in 64 calls) is refused, never run unbounded. */
    @Test
    void largeSteppedBatchesAreRefusedAndSmallOnesPass() {
        int cifar4096 = StepBound.poisson(50_000, 4096.0 / 50_000);
        assertEquals(4840, cifar4096);
        assertThrows(
                UserError.class,
                new AccumulatorMargin(cifar4096, new BatchLayout(1, 76, 1), 1, false, D)::checkCoupling);
        assertThrows(
                UserError.class,
                new AccumulatorMargin(cifar4096, new BatchLayout(1, 64, 16), 1, false, D)::checkCoupling);
        int cifar64 = StepBound.poisson(50_000, 64.0 / 50_000);
        assertDoesNotThrow(new AccumulatorMargin(cifar64, new BatchLayout(1, 16, 1), 1, false, D)::checkCoupling);
    }

    @Test
    void stochasticRoundingDoublesTheUnitRoundoff() {
        BatchLayout l = new BatchLayout(2, 8, 4);
        AccumulatorMargin nearest = new AccumulatorMargin(300, l, 2, false, D);
        AccumulatorMargin stochastic = new AccumulatorMargin(300, l, 2, true, D);
        assertEquals(AccumulatorMargin.pow2(-24), nearest.unitRoundoff());
        assertEquals(AccumulatorMargin.pow2(-23), stochastic.unitRoundoff());
        assertTrue(stochastic.coupling().compareTo(nearest.coupling().multiply(BigDecimal.valueOf(2))) > 0);
    }

    /** Tiny bounds: the underflow term grows as 1/C and a bound it would swamp is refused. */
    @Test
    void underflowIsCountedAgainstTinyBounds() {
        AccumulatorMargin m = new AccumulatorMargin(64, new BatchLayout(1, 64, 1), 1, false, D);
        assertTrue(m.underflow(1.0).compareTo(AccumulatorMargin.pow2(-80)) < 0);
        assertThrows(UserError.class, () -> m.checkedLowering(1e-30));
    }

    /** The bound the device receives: the largest float ≤ C_t·(1 − μ), for every group of a per-layer policy. */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {21, 22, 23})
    void theDeviceGetsTheLargestFloatBelowTheLoweredBound(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        for (int trial = 0; trial < 50; trial++) {
            int tensors = 1 + rng.nextInt(12);
            int groups = 1 + rng.nextInt(tensors);
            double[] thresholds = new double[groups];
            for (int g = 0; g < groups; g++) thresholds[g] = Math.exp(rng.nextDouble(-10, 4));
            int[] groupOf = new int[tensors];
            for (int i = 0; i < tensors; i++) groupOf[i] = i < groups ? i : rng.nextInt(groups);
            ClipPolicy policy = new ClipPolicy(thresholds, groupOf);
            int[] trainable = java.util.stream.IntStream.range(0, tensors).toArray();
            AccumulatorMargin m = new AccumulatorMargin(1 + rng.nextInt(300), new BatchLayout(1, 16, 1), 1, false, D);
            BigDecimal mu = m.checkedLowering(policy.sensitivity());
            float[] table = ClipTable.of(policy, trainable, mu);
            for (int i = 0; i < tensors; i++) {
                BigDecimal exact = new BigDecimal(thresholds[groupOf[i]]).multiply(BigDecimal.ONE.subtract(mu));
                assertTrue(new BigDecimal(table[i]).compareTo(exact) <= 0, "never above C_t(1 − μ)");
                assertTrue(new BigDecimal(Math.nextUp(table[i])).compareTo(exact) > 0, "the largest such float");
                assertEquals(groupOf[i], (int) table[tensors + i]);
            }
        }
    }
}
