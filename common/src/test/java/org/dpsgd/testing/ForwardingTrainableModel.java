package org.dpsgd.testing;

import org.dpsgd.backend.BatchStats;
import org.dpsgd.backend.DeviceBatch;
import org.dpsgd.backend.GradientScope;
import org.dpsgd.backend.TrainableModel;
import org.dpsgd.model.Network;

/**
 * A {@link TrainableModel} that forwards every call to another one: tests override the one method whose behaviour they
 * change (fail on the second call, count examples, ignore the mask) and inherit the rest. The per-policy
 * {@code accumulateClipped(DeviceBatch, ClipPolicy)} and the float64 {@code drainGradientSum(double[])} are
 * deliberately left to the interface's defaults, which call {@link #accumulateClipped(DeviceBatch, double)} and
 * {@link #drainGradientSum(float[])}, so an override of those sees every call the trainer makes. The optional
 * {@code deviceSgd()} is not forwarded either: a wrapped model offers none, so a non-private trainer over it takes the
 * host path (drain, host update, write) and every drain and write is seen.
 */
public class ForwardingTrainableModel implements TrainableModel {
    private final TrainableModel delegate;

    /** Forwards to {@code delegate}. */
    public ForwardingTrainableModel(TrainableModel delegate) {
        this.delegate = delegate;
    }

    /** The model calls are forwarded to. */
    protected TrainableModel delegate() {
        return delegate;
    }

    @Override
    public Network network() {
        return delegate.network();
    }

    @Override
    public BatchStats accumulateClipped(DeviceBatch batch, double clipNorm) {
        return delegate.accumulateClipped(batch, clipNorm);
    }

    @Override
    public BatchStats accumulateUnclipped(DeviceBatch batch) {
        return delegate.accumulateUnclipped(batch);
    }

    @Override
    public double[] perSampleGradientNorms(DeviceBatch batch) {
        return delegate.perSampleGradientNorms(batch);
    }

    @Override
    public void drainGradientSum(float[] into) {
        delegate.drainGradientSum(into);
    }

    @Override
    public void boundStepExamples(int maxExamples) {
        delegate.boundStepExamples(maxExamples);
    }

    @Override
    public GradientScope gradientScope() {
        return delegate.gradientScope();
    }

    @Override
    public void readParameters(float[] into) {
        delegate.readParameters(into);
    }

    @Override
    public void writeParameters(float[] from) {
        delegate.writeParameters(from);
    }

    @Override
    public BatchStats evaluate(DeviceBatch batch) {
        return delegate.evaluate(batch);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
