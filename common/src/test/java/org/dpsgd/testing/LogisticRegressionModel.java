package org.dpsgd.testing;

import java.util.List;
import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.ModelOptions;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Layer;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * A pure-Java reference {@link TrainableModel}: multinomial logistic regression (Flatten + Linear
 * "fc", weight [K, D] then bias [K]) with the exact per-sample gradient of the cross-entropy,
 * (softmax(z) - onehot(y)) ⊗ [x, 1]. Per-sample work is done one slot at a time and summed in
 * double in slot order, so padding (skipped) can never change a bit of the result. Frozen
 * parameters (ModelOptions prefixes) get no gradient and do not count in the norm.
 */
public final class LogisticRegressionModel implements TrainableModel {
    private final Network network;
    private final int d;
    private final int k;
    private final float[] params;
    private final double[] acc;
    private final boolean weightFrozen;
    private final boolean biasFrozen;

    public LogisticRegressionModel(Shape input, int classes, ModelOptions options, float[] initial) {
        this.d = input.size();
        this.k = classes;
        this.network =
                new Network("logreg", input, classes, List.of(new Layer.Flatten(), new Layer.Linear("fc", d, k, true)));
        this.params = new float[k * d + k];
        if (initial != null) {
            if (initial.length != params.length)
                throw new IllegalArgumentException("need " + params.length + " initial parameters");
            System.arraycopy(initial, 0, params, 0, params.length);
        }
        this.acc = new double[params.length];
        ModelOptions o = options == null ? new ModelOptions(null, null, null, null) : options;
        this.weightFrozen = o.isFrozen("fc.weight");
        this.biasFrozen = o.isFrozen("fc.bias");
    }

    public static LogisticRegressionModel zeros(Shape input, int classes) {
        return new LogisticRegressionModel(input, classes, null, null);
    }

    @Override
    public Network network() {
        return network;
    }

    /** Loss of one input (at offset) and its gradient into {@code g} (length K·D + K), added with weight {@code w}. */
    private double lossAndGradient(float[] x, int off, int label, double[] g, double w) {
        double[] z = logits(params, x, off);
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        for (int j = 0; j < k; j++) sum += Math.exp(z[j] - max);
        double logSum = max + Math.log(sum);
        if (g != null) {
            for (int j = 0; j < k; j++) {
                double dz = Math.exp(z[j] - logSum) - (j == label ? 1 : 0);
                if (!weightFrozen) for (int i = 0; i < d; i++) g[j * d + i] += w * dz * x[off + i];
                if (!biasFrozen) g[k * d + j] += w * dz;
            }
        }
        return logSum - z[label];
    }

    private double[] logits(float[] p, float[] x, int off) {
        double[] z = new double[k];
        for (int j = 0; j < k; j++) {
            double s = p[k * d + j];
            for (int i = 0; i < d; i++) s += (double) p[j * d + i] * x[off + i];
            z[j] = s;
        }
        return z;
    }

    private int argmax(float[] x, int off) {
        double[] z = logits(params, x, off);
        int best = 0;
        for (int j = 1; j < k; j++) if (z[j] > z[best]) best = j;
        return best;
    }

    /** The per-sample gradient of slot {@code s} (mean over its copies) and its mean loss. */
    public double slotGradient(DeviceBatch b, int s, double[] g) {
        java.util.Arrays.fill(g, 0);
        int m = b.multiplicity();
        double loss = 0;
        for (int c = 0; c < m; c++) loss += lossAndGradient(b.inputs(), b.inputOffset(s, c), b.labels()[s], g, 1.0 / m);
        return loss / m;
    }

    private static double norm(double[] g) {
        double s = 0;
        for (double v : g) s += v * v;
        return Math.sqrt(s);
    }

    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
        return accumulate(batch, clipNorm);
    }

    @Override
    public BatchStats accumulateUnclipped(DeviceBatch batch) {
        return accumulate(batch, Double.POSITIVE_INFINITY);
    }

    private BatchStats accumulate(DeviceBatch batch, double clipNorm) {
        double[] g = new double[params.length];
        BatchStats stats = BatchStats.EMPTY;
        for (int s = 0; s < batch.slots(); s++) {
            if (batch.mask()[s] == 0f) continue;
            double loss = slotGradient(batch, s, g);
            double n = norm(g);
            double scale = n > clipNorm ? clipNorm / n : 1.0;
            for (int i = 0; i < g.length; i++) acc[i] += scale * g[i];
            boolean correct = argmax(batch.inputs(), batch.inputOffset(s, 0)) == batch.labels()[s];
            stats = stats.plus(new BatchStats(1, loss, correct ? 1 : 0, n > clipNorm ? 1 : 0, n));
        }
        return stats;
    }

    @Override
    public double[] perSampleGradientNorms(DeviceBatch batch) {
        double[] g = new double[params.length];
        double[] out = new double[batch.slots()];
        for (int s = 0; s < batch.slots(); s++) {
            slotGradient(batch, s, g);
            out[s] = norm(g);
        }
        return out;
    }

    @Override
    public void drainGradientSum(float[] into) {
        for (int i = 0; i < acc.length; i++) {
            into[i] = (float) acc[i];
            acc[i] = 0;
        }
    }

    /** Its float64 accumulator as it is, as a backend with float64 sums hands it over. */
    @Override
    public void drainGradientSum(double[] into) {
        System.arraycopy(acc, 0, into, 0, acc.length);
        java.util.Arrays.fill(acc, 0);
    }

    @Override
    public boolean drainsRanges() {
        return true;
    }

    /** The float64 accumulator's [from, to) as it is; zeroed there only. */
    @Override
    public void drainGradientSum(double[] into, int from, int to, int at) {
        if (from < 0 || to > acc.length || from > to) throw new IllegalArgumentException("bad range");
        System.arraycopy(acc, from, into, at, to - from);
        java.util.Arrays.fill(acc, from, to, 0);
    }

    @Override
    public void readParameters(float[] into) {
        System.arraycopy(params, 0, into, 0, params.length);
    }

    @Override
    public void writeParameters(float[] from) {
        System.arraycopy(from, 0, params, 0, params.length);
    }

    @Override
    public BatchStats evaluate(DeviceBatch batch) {
        BatchStats stats = BatchStats.EMPTY;
        for (int s = 0; s < batch.slots(); s++) {
            if (batch.mask()[s] == 0f) continue;
            int off = batch.inputOffset(s, 0);
            double loss = lossAndGradient(batch.inputs(), off, batch.labels()[s], null, 0);
            stats = stats.plus(new BatchStats(1, loss, argmax(batch.inputs(), off) == batch.labels()[s] ? 1 : 0, 0, 0));
        }
        return stats;
    }

    @Override
    public void close() {}
}
