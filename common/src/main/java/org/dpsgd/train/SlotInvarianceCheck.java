package org.dpsgd.train;

import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.dpsgd.UserError;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Network;

/**
 * Checks, before a private run's first step ({@link PrivateTraining#open}; code that builds a {@link DpSgdTrainer}
 * itself can call {@link #check}), the premise of the clip bound's float-level argument on the run's own
 * model, shapes and device: an example's per-sample gradient norm has the same bits in whatever slot of a call it
 * sits (docs/core.md, "Float margin" item 2). Removing an example from the data moves the others to other slots, so
 * a backend whose per-example values depend on the slot couples examples by rounding, which the sensitivity bound
 * does not cover.
 *
 * <p>How: one call of synthetic examples (Gaussian inputs from a fixed seed, uniform labels: nothing from the
 * training data, so nothing is released), then the same examples each moved one slot on; every norm is compared bit
 * for bit. What moves a row is the code path (a block's tail, a thread split), not the values, so a path that moves
 * rows shows it on synthetic data. The first call is made twice: a backend that gives other bits for the same call
 * (stochastic rounding, nondeterministic kernels) cannot be checked by bits, and is reported so (loudly, not refused).
 * Three device calls at the start of a run.
 *
 * <p>Setting {@code slot_invariance} (every backend; else the variable DPSGD_SLOT_INVARIANCE): {@code require}
 * (default) refuses to start where a norm moves; {@code record} starts anyway, warns and records it (a weaker,
 * float-level guarantee; the exact-arithmetic DP analysis is unaffected).
 */
public final class SlotInvarianceCheck {
    private SlotInvarianceCheck() {}

    /** The setting's key (every backend). */
    public static final String SETTING = "slot_invariance";

    /** The environment variable that decides where the settings do not (the test JVMs set {@code record}). */
    public static final String ENV = "DPSGD_SLOT_INVARIANCE";

    /**
     * How many examples changed their norm's bits when moved one slot on, of how many; and how many changed them when
     * the same call was simply made again (a nondeterministic backend: stochastic rounding, nondeterministic kernels),
     * where bits cannot tell a slot's effect from chance.
     *
     * @param moved examples whose norm changed when moved one slot on
     * @param total examples compared
     * @param unstable examples whose norm changed when the same call was repeated
     */
    public record Result(int moved, int total, int unstable) {
        /** A deterministic result. */
        public Result(int moved, int total) {
            this(moved, total, 0);
        }

        /** Whether the same call gave the same bits twice, so the comparison means something. */
        public boolean checkable() {
            return unstable == 0;
        }

        /** Whether no norm moved (on a deterministic backend). */
        public boolean holds() {
            return checkable() && moved == 0;
        }

        @Override
        public String toString() {
            if (!checkable())
                return "NOT CHECKABLE: the same call made twice gave " + unstable + " of " + total
                        + " examples other norm bits (a nondeterministic backend), so a slot's effect cannot be told by bits";
            return holds()
                    ? "norms unchanged with every example moved one slot on (" + total + " slots)"
                    : "NORMS MOVE: " + moved + " of " + total + " examples change their norm's bits in another slot";
        }
    }

    /**
     * Whether a norm that moves refuses the run: the setting in {@code settings}, else the variable, else require.
     *
     * @param settings backend settings
     * @return true for require
     */
    public static boolean required(Map<String, String> settings) {
        return required(settings, System.getenv(ENV));
    }

    /**
     * As {@link #required(Map)} with the variable's value given.
     *
     * @param settings backend settings
     * @param env the variable's value, null when unset
     * @return true for require
     */
    public static boolean required(Map<String, String> settings, String env) {
        String v = settings.getOrDefault(SETTING, env == null || env.isBlank() ? "require" : env);
        String s = v.trim().toLowerCase(Locale.ROOT);
        if (!s.equals("require") && !s.equals("record"))
            throw new IllegalArgumentException(
                    "backend setting " + SETTING + " (or " + ENV + ") must be require or record, got '" + v + "'");
        return s.equals("require");
    }

    /**
     * Runs the check on {@code model} at {@code layout}'s call shape and applies the setting.
     *
     * @param model the run's model (its parameters are read, nothing is accumulated)
     * @param net the model's network (input shape, classes)
     * @param layout the run's call layout (its slots per call)
     * @param copies augmented copies per slot
     * @param settings backend settings ({@code slot_invariance})
     * @param log where the warning goes when recorded
     * @return the result
     * @throws UserError where a norm moves and the setting requires otherwise
     */
    public static Result check(
            TrainableModel model,
            Network net,
            BatchLayout layout,
            int copies,
            Map<String, String> settings,
            java.util.function.Consumer<String> log) {
        boolean required = required(settings); // a bad value is refused before anything runs
        return decide(run(model, net, layout.slotsPerCall(), copies), required, log);
    }

    /**
     * Refuses {@code r} where it does not hold and is required; warns where it is only recorded.
     *
     * @param r the result
     * @param required whether a moved norm refuses
     * @param log where the warning goes
     * @return r
     */
    public static Result decide(Result r, boolean required, java.util.function.Consumer<String> log) {
        if (!r.checkable()) {
            // Not refused: nothing was shown to move, and a nondeterministic backend (the IPU's stochastic rounding)
            // would otherwise be refused everywhere. Said loudly and recorded instead.
            log.accept("WARNING: slot check " + r + "; the clip bound's slot premise is not checked on this backend"
                    + " (docs/core.md, \"Float margin\" item 2)");
            return r;
        }
        if (!r.holds() && required)
            throw new UserError(r.moved() + " of " + r.total() + " examples get other norm bits when moved to another"
                    + " slot of the call on this backend and machine, so removing an example could change the others'"
                    + " values, which the clip bound does not allow (docs/core.md, \"Float margin\" item 2); set"
                    + " backend setting " + SETTING + "=record to train anyway with this recorded");
        if (!r.holds())
            log.accept("WARNING: " + r + ": the clip bound for the values summed is not proven on this backend and"
                    + " machine (" + SETTING + "=record; docs/core.md, \"Float margin\" item 2)");
        return r;
    }

    /**
     * The comparison alone: synthetic examples in every slot, then each moved one slot on.
     *
     * @param model the model
     * @param net its network
     * @param slots slots per call
     * @param copies augmented copies per slot
     * @return the result
     */
    public static Result run(TrainableModel model, Network net, int slots, int copies) {
        DeviceBatch batch = new DeviceBatch(net.input(), slots, copies);
        SplittableRandom random = new SplittableRandom(0x5107L);
        float[] x = batch.inputs();
        for (int i = 0; i < x.length; i++) {
            double u = 1 - random.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble()));
        }
        for (int s = 0; s < slots; s++) {
            batch.labels()[s] = random.nextInt(net.numClasses());
            batch.mask()[s] = 1f;
            batch.exampleIds()[s] = s;
        }
        DeviceBatch moved = new DeviceBatch(net.input(), slots, copies);
        int per = x.length / slots;
        for (int s = 0; s < slots; s++) {
            int t = (s + 1) % slots;
            System.arraycopy(x, s * per, moved.inputs(), t * per, per);
            moved.labels()[t] = batch.labels()[s];
            moved.mask()[t] = 1f;
            moved.exampleIds()[t] = t;
        }
        double[] here = model.perSampleGradientNorms(batch);
        double[] again = model.perSampleGradientNorms(batch);
        double[] there = model.perSampleGradientNorms(moved);
        int changed = 0;
        int unstable = 0;
        for (int s = 0; s < slots; s++) {
            if (Double.doubleToRawLongBits(here[s]) != Double.doubleToRawLongBits(again[s])) unstable++;
            if (Double.doubleToRawLongBits(again[s]) != Double.doubleToRawLongBits(there[(s + 1) % slots])) changed++;
        }
        return new Result(changed, slots, unstable);
    }
}
