package org.dpsgd.audit;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.ClipPolicy;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.data.Dataset;
import org.dpsgd.data.InMemoryDataset;
import org.dpsgd.model.Shape;
import org.dpsgd.train.ExtraExamples;

/**
 * Black-box input canaries (Steinke, Nasr &amp; Jagielski 2023): m real-looking
 * examples with wrong labels, each with a secret fair coin; the IN ones are extra examples of the
 * private dataset. A sampled IN canary's gradient is computed and clipped by the <b>backend</b>
 * ({@link TrainableModel#accumulateClipped(DeviceBatch, ClipPolicy)}, the same call as every real
 * example, one canary in slot 0 of a call whose other slots are masked), so the audit covers the
 * backend's per-sample clipping. After training every canary, IN and OUT, is scored by minus its
 * loss (on its wrong label) under the final model: a trained-on canary fits its wrong label better.
 *
 * <p>Being extra examples, the canaries leave the private data's accounting alone: the trainer's
 * q = B/N, step count and divisor q·N use the N real examples only, and each canary, like each real
 * example, is drawn with probability q (docs/audit.md, "Black-box input canaries").
 *
 * <p>The coins (and which inputs were used) are the audit's secret: they go only into the run's
 * audit file.
 */
public final class InputCanaries implements ExtraExamples {
    private final Dataset inputs; // canary k is example k, labelled with its wrong label
    private final int[] sourceIds; // index in the test split, or -1 for a synthetic input
    private final boolean[] in;
    private final int[] included; // canary of each extra example, in index order
    private TrainableModel model;
    private DeviceBatch batch;
    private double[] gradient;

    /**
     * Canaries with given inputs, labels and coins (tests, or an auditor's own draw).
     *
     * @param inputs canary k is example k of this dataset, with the (wrong) label it is trained and scored on
     * @param sourceIds where each input came from (test-split index), -1 for synthetic; recorded in the audit file
     * @param in the coins: true = IN
     */
    public InputCanaries(Dataset inputs, int[] sourceIds, boolean[] in) {
        if (inputs.size() != in.length || sourceIds.length != in.length)
            throw new IllegalArgumentException(
                    inputs.size() + " inputs, " + sourceIds.length + " ids but " + in.length + " coins");
        if (in.length < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + in.length);
        this.inputs = inputs;
        this.sourceIds = sourceIds.clone();
        this.in = in.clone();
        this.included = IntStream.range(0, in.length).filter(k -> in[k]).toArray();
    }

    /**
     * Draws m canaries from the test split: m distinct test images (never training images), each
     * with a label uniform among the wrong classes, and fair coins. Pass a secure generator (the
     * JDK's DRBG) for a real audit.
     */
    public static InputCanaries fromTestSplit(int m, Dataset test, RandomGenerator rng) {
        if (m < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + m);
        if (test.numClasses() < 2)
            throw new IllegalArgumentException("black-box canaries need at least 2 classes for a wrong label");
        if (m > test.size()) {
            throw new IllegalArgumentException(
                    m + " black-box canaries need " + m + " distinct test images but " + test.describe() + " has "
                            + test.size() + "; use fewer canaries (--canaries) or raise data.test_limit");
        }
        // Floyd's algorithm: m distinct test indices, uniform.
        Set<Integer> chosen = new HashSet<>();
        for (int j = test.size() - m; j < test.size(); j++) {
            int t = rng.nextInt(j + 1);
            chosen.add(chosen.contains(t) ? j : t);
        }
        int[] ids = chosen.stream().mapToInt(Integer::intValue).sorted().toArray();
        int d = test.shape().size();
        float[] x = new float[Math.multiplyExact(m, d)];
        int[] y = new int[m];
        for (int k = 0; k < m; k++) {
            test.read(ids[k], x, k * d);
            int truth = test.label(ids[k]);
            int wrong = rng.nextInt(test.numClasses() - 1);
            y[k] = wrong >= truth ? wrong + 1 : wrong;
        }
        boolean[] coins = coins(m, rng);
        return new InputCanaries(
                new InMemoryDataset(test.shape(), test.numClasses(), x, y, "input canaries from " + test.describe()),
                ids,
                coins);
    }

    /**
     * Draws m synthetic out-of-distribution canaries (for a dataset without a test split): inputs of
     * independent N(0, 1) pixels (the scale of normalised data), labels uniform over the classes,
     * fair coins. The inputs need not be secret; the coins come from {@code rng}.
     */
    public static InputCanaries synthetic(int m, Shape shape, int numClasses, RandomGenerator rng) {
        if (m < 2) throw new IllegalArgumentException("an audit needs at least 2 canaries, got " + m);
        SplittableRandom pixels = new SplittableRandom(rng.nextLong());
        int d = shape.size();
        float[] x = new float[Math.multiplyExact(m, d)];
        for (int i = 0; i < x.length; i++) x[i] = (float) pixels.nextGaussian();
        int[] y = new int[m];
        for (int k = 0; k < m; k++) y[k] = rng.nextInt(numClasses);
        int[] ids = new int[m];
        Arrays.fill(ids, -1);
        return new InputCanaries(
                new InMemoryDataset(shape, numClasses, x, y, "synthetic input canaries"), ids, coins(m, rng));
    }

    private static boolean[] coins(int m, RandomGenerator rng) {
        boolean[] c = new boolean[m];
        for (int k = 0; k < m; k++) c[k] = rng.nextBoolean();
        return c;
    }

    /**
     * The backend model that clips the canaries' gradients during training and scores them after it;
     * call before the first step.
     *
     * @param slots slots of one device call (the run's {@code BatchLayout.slotsPerCall()})
     * @param multiplicity augmented copies per slot the model is trained with (canaries get identical copies)
     */
    public void bind(TrainableModel model, int slots, int multiplicity) {
        if (!model.network().input().equals(inputs.shape()))
            throw new IllegalArgumentException("the canaries have shape " + inputs.shape() + " but the model expects "
                    + model.network().input());
        this.model = model;
        this.batch = new DeviceBatch(inputs.shape(), slots, multiplicity);
        this.gradient = new double[Math.toIntExact(model.network().parameterCount())];
    }

    /** The IN canaries: only they are examples the sampler draws from. */
    @Override
    public int count() {
        return included.length;
    }

    /**
     * Runs the backend's own per-sample clipping on the canary (alone in a call, other slots
     * masked) and adds the clipped gradient, drained in float64, to {@code clippedSum} (float64,
     * before the noise). The trainer calls this after it
     * has drained the step's real sum, with the step's parameters still on the model.
     */
    @Override
    public void addClippedGradient(int index, double[] clippedSum, ClipPolicy clip) {
        if (model == null)
            throw new IllegalStateException("input canaries are not bound to the run's model (call bind first)");
        fillAlone(included[index], batch.multiplicity());
        model.accumulateClipped(batch, clip);
        model.drainGradientSum(gradient);
        for (int i = 0; i < gradient.length; i++) clippedSum[i] += gradient[i];
    }

    /**
     * Scores every canary, IN and OUT: minus its loss on its wrong label under the parameters now on
     * the model (the final ones after training). Higher = looks IN. A non-finite loss scores lowest.
     */
    public double[] scores() {
        if (model == null) throw new IllegalStateException("input canaries are not bound to the run's model");
        DeviceBatch eval = new DeviceBatch(inputs.shape(), batch.slots(), 1);
        double[] s = new double[in.length];
        for (int k = 0; k < in.length; k++) {
            fillAlone(k, 1, eval);
            BatchStats st = model.evaluate(eval);
            double loss = st.samples() == 1 && st.nonFinite() == 0 ? st.lossSum() : Double.NaN;
            s[k] = Double.isFinite(loss) ? -loss : -Double.MAX_VALUE;
        }
        return s;
    }

    private void fillAlone(int canary, int multiplicity) {
        fillAlone(canary, multiplicity, batch);
    }

    /** Canary in slot 0 (all its copies), every other slot masked padding. */
    private void fillAlone(int canary, int multiplicity, DeviceBatch b) {
        float[] x = b.inputs();
        Arrays.fill(x, 0f);
        Arrays.fill(b.labels(), 0);
        Arrays.fill(b.mask(), 0f);
        Arrays.fill(b.exampleIds(), -1L);
        for (int c = 0; c < multiplicity; c++) inputs.read(canary, x, b.inputOffset(0, c));
        b.labels()[0] = inputs.label(canary);
        b.mask()[0] = 1f;
        b.exampleIds()[0] = canary;
    }

    /**
     * {@code test} without the images used as canaries (those drawn by
     * {@link #fromTestSplit(int, Dataset, RandomGenerator)} from it), so that the run's test
     * accuracy is measured on images the model was never trained on, under any label.
     */
    public Dataset heldOut(Dataset test) {
        boolean[] used = new boolean[test.size()];
        for (int id : sourceIds) if (id >= 0 && id < used.length) used[id] = true;
        int[] keep = IntStream.range(0, test.size()).filter(i -> !used[i]).toArray();
        return new Dataset() {
            @Override
            public int size() {
                return keep.length;
            }

            @Override
            public Shape shape() {
                return test.shape();
            }

            @Override
            public int numClasses() {
                return test.numClasses();
            }

            @Override
            public int label(int index) {
                return test.label(keep[index]);
            }

            @Override
            public void read(int index, float[] dst, int offset) {
                test.read(keep[index], dst, offset);
            }

            @Override
            public String describe() {
                return test.describe() + " without its " + (test.size() - keep.length) + " canary images";
            }
        };
    }

    /** m. */
    public int size() {
        return in.length;
    }

    /** The coins: true = IN (trained on). Secret until the audit is scored. */
    public boolean[] coins() {
        return in.clone();
    }

    /** Canary k's test-split index, or -1 for a synthetic input. */
    public int[] sourceIds() {
        return sourceIds.clone();
    }

    /** Canary k's (wrong) label. */
    public int[] labels() {
        return IntStream.range(0, in.length).map(inputs::label).toArray();
    }
}
