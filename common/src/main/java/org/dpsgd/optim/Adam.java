package org.dpsgd.optim;

import java.util.Map;

/**
 * torch.optim.Adam / AdamW. Adam adds wd·p to the gradient (L2); AdamW decays the parameter
 * first (p *= 1 - lr·wd). Then m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g², and
 * p -= lr/(1-β1^t) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
 */
public final class Adam implements Optimizer {
    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;
    private final TrainableMask mask;
    private final float[] m, v;
    private long steps;

    /**
     * Adam ({@code decoupled} false: weight decay added to the gradient) or AdamW ({@code decoupled} true: parameters
     * decayed by lr·wd first), PyTorch's update; coordinates outside {@code mask} are never touched.
     */
    public Adam(double beta1, double beta2, double eps, double weightDecay, boolean decoupled, TrainableMask mask) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.mask = mask;
        this.m = new float[mask.size()];
        this.v = new float[mask.size()];
    }

    @Override
    public String name() {
        return decoupled ? "adamw" : "adam";
    }

    @Override
    public void step(float[] params, float[] grad, double lr) {
        long t = ++steps;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2sqrt = Math.sqrt(1 - Math.pow(beta2, t));
        double stepSize = lr / bc1;
        for (int r = 0; r < mask.ranges(); r++) {
            for (int i = mask.from(r); i < mask.to(r); i++) {
                double p = params[i];
                double g = grad[i];
                if (decoupled) p *= 1 - lr * weightDecay;
                else g += weightDecay * p;
                double mi = beta1 * m[i] + (1 - beta1) * g;
                double vi = beta2 * v[i] + (1 - beta2) * g * g;
                m[i] = (float) mi;
                v[i] = (float) vi;
                params[i] = (float) (p - stepSize * mi / (Math.sqrt(vi) / bc2sqrt + eps));
            }
        }
    }

    @Override
    public OptimizerState exportState() {
        return new OptimizerState(name(), steps, Map.of("exp_avg", m.clone(), "exp_avg_sq", v.clone()));
    }

    @Override
    public void importState(OptimizerState s) {
        Optimizers.checkState(s, name(), mask.size());
        float[] a = s.buffers().get("exp_avg"), b = s.buffers().get("exp_avg_sq");
        if (a == null || b == null)
            throw new IllegalArgumentException("Adam state needs exp_avg and exp_avg_sq buffers");
        System.arraycopy(a, 0, m, 0, m.length);
        System.arraycopy(b, 0, v, 0, v.length);
        steps = s.steps();
    }
}
