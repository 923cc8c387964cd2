package org.dpsgd.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import java.util.ArrayList;
import java.util.List;
import org.dpsgd.backend.ClipPolicy;

/**
 * Per-slot squared gradient norms and their error bounds ({@link ClipBound}), summed per clip group
 * on the device in float64, then brought to the host in one transfer each.
 */
final class SlotNorms {
    private final ClipPolicy policy;
    private final int slots;
    private final NDArray[] squared;
    private final NDArray[] normSlack;
    private final NDArray[] sumSlack;

    SlotNorms(ClipPolicy policy, int slots) {
        this.policy = policy;
        this.slots = slots;
        this.squared = new NDArray[policy.groups()];
        this.normSlack = new NDArray[policy.groups()];
        this.sumSlack = new NDArray[policy.groups()];
    }

    /** Adds parameter {@code param}'s per-slot squared norms [slots], where its gradient is formed per slot. */
    void add(int param, NDArray squaredNorms) {
        int g = policy.groupOf(param);
        squared[g] = plus(squared[g], squaredNorms);
    }

    /**
     * Adds the squared norms of a gradient that is not formed per slot, with M = Σ_t ‖a_t‖‖g_t‖ [slots]
     * and the γ of its norm computation and of its clipped-sum computation ({@link ClipBound#gamma}).
     */
    void addUnformed(int param, NDArray squaredNorms, NDArray m, double normGamma, double sumGamma) {
        int g = policy.groupOf(param);
        squared[g] = plus(squared[g], squaredNorms);
        NDArray m2 = Precision.f64(m).square();
        normSlack[g] = plus(normSlack[g], m2.mul(normGamma));
        sumSlack[g] = plus(sumSlack[g], m2.mul(sumGamma * sumGamma));
    }

    /** The device arrays this holds now (they must outlive the {@link TapScope} of the tap that added to them). */
    List<NDArray> live() {
        List<NDArray> out = new ArrayList<>();
        for (NDArray[] perGroup : new NDArray[][] {squared, normSlack, sumSlack})
            for (NDArray a : perGroup) if (a != null) out.add(a);
        return out;
    }

    /** [group][slot] squared norms. */
    double[][] squared() {
        return toHost(squared);
    }

    /** [group][slot] bounds on |n̂² − ‖G‖²|. */
    double[][] normSlack() {
        return toHost(normSlack);
    }

    /** [group][slot] squared bounds on the clipped sum's error per unit factor. */
    double[][] sumSlack() {
        return toHost(sumSlack);
    }

    private static NDArray plus(NDArray sum, NDArray x) {
        NDArray d = Precision.f64(x);
        return sum == null ? d : sum.add(d);
    }

    private double[][] toHost(NDArray[] perGroup) {
        double[][] out = new double[perGroup.length][slots];
        NDList present = new NDList();
        for (NDArray a : perGroup) if (a != null) present.add(a.reshape(slots));
        if (present.isEmpty()) return out;
        double[] flat = Precision.toDoubles(present.size() == 1 ? present.get(0) : NDArrays.stack(present));
        int k = 0;
        for (int g = 0; g < perGroup.length; g++) {
            if (perGroup[g] == null) continue;
            System.arraycopy(flat, k * slots, out[g], 0, slots);
            k++;
        }
        return out;
    }
}
