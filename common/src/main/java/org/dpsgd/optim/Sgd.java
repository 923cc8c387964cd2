package org.dpsgd.optim;

import java.util.Map;

/**
 * torch.optim.SGD without dampening: g = grad + wd·p; with momentum μ, buf = g on the first step,
 * else buf = μ·buf + g; the step direction is g + μ·buf (Nesterov) or buf; p -= lr · direction.
 * Arithmetic in double per coordinate, stored as float.
 */
public final class Sgd implements Optimizer {
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;
    private final TrainableMask mask;
    private final float[] buf;
    private long steps;

    /**
     * SGD with {@code momentum} (0 = none), optional Nesterov (needs momentum > 0) and L2 {@code weightDecay};
     * coordinates outside {@code mask} are never touched.
     */
    public Sgd(double momentum, boolean nesterov, double weightDecay, TrainableMask mask) {
        if (nesterov && momentum <= 0) throw new IllegalArgumentException("Nesterov momentum needs momentum > 0");
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
        this.mask = mask;
        this.buf = momentum > 0 ? new float[mask.size()] : null;
    }

    @Override
    public String name() {
        return "sgd";
    }

    @Override
    public void step(float[] params, float[] grad, double lr) {
        boolean first = steps == 0;
        for (int r = 0; r < mask.ranges(); r++) {
            for (int i = mask.from(r); i < mask.to(r); i++) {
                double g = grad[i] + weightDecay * params[i];
                if (buf != null) {
                    double b = first ? g : momentum * buf[i] + g;
                    buf[i] = (float) b;
                    g = nesterov ? g + momentum * b : b;
                }
                params[i] = (float) (params[i] - lr * g);
            }
        }
        steps++;
    }

    @Override
    public OptimizerState exportState() {
        return new OptimizerState(name(), steps, buf == null ? Map.of() : Map.of("momentum", buf.clone()));
    }

    @Override
    public void importState(OptimizerState s) {
        Optimizers.checkState(s, name(), mask.size());
        if (buf != null) {
            float[] b = s.buffers().get("momentum");
            if (b == null)
                throw new IllegalArgumentException(
                        "optimizer state has no momentum buffer (was momentum 0 when it was saved?)");
            System.arraycopy(b, 0, buf, 0, buf.length);
        }
        steps = s.steps();
    }
}
