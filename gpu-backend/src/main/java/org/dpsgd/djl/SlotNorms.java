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
 *
 * <p>A {@link #recorder} takes one tap's adds on another thread without summing them; {@link #replayInto}
 * then adds them, on the caller and in tap order, exactly as the tap's own adds would have been made
 * (each term is computed by the same ops; only the running sums wait), so the sums' bits do not depend
 * on which thread measured which tap ({@link TapPhases}).
 */
final class SlotNorms {
    private final ClipPolicy policy;
    private final int slots;
    private final NDArray[] squared;
    private final NDArray[] normSlack;
    private final NDArray[] sumSlack;
    // A recorder's terms in the order they were added: {kind (0 squared, 1 normSlack, 2 sumSlack), group}.
    private final List<int[]> where;
    private final List<NDArray> terms;

    SlotNorms(ClipPolicy policy, int slots) {
        this(policy, slots, false);
    }

    private SlotNorms(ClipPolicy policy, int slots, boolean recording) {
        this.policy = policy;
        this.slots = slots;
        this.squared = new NDArray[policy.groups()];
        this.normSlack = new NDArray[policy.groups()];
        this.sumSlack = new NDArray[policy.groups()];
        this.where = recording ? new ArrayList<>() : null;
        this.terms = recording ? new ArrayList<>() : null;
    }

    /** An empty recorder for one tap's adds, to be {@link #replayInto replayed} into this. */
    SlotNorms recorder() {
        return new SlotNorms(policy, slots, true);
    }

    /**
     * Adds the recorded terms to {@code target} in the order they were recorded, with the sums a
     * direct add makes ({@code sum == null ? term : sum + term}).
     */
    void replayInto(SlotNorms target) {
        if (where == null) throw new IllegalStateException("not a recorder");
        for (int i = 0; i < terms.size(); i++) {
            int[] w = where.get(i);
            NDArray[] perGroup = target.kind(w[0]);
            perGroup[w[1]] = sum(perGroup[w[1]], terms.get(i));
        }
    }

    /** Adds parameter {@code param}'s per-slot squared norms [slots], where its gradient is formed per slot. */
    void add(int param, NDArray squaredNorms) {
        plus(0, policy.groupOf(param), Precision.f64(squaredNorms));
    }

    /**
     * Adds the squared norms of a gradient that is not formed per slot, with M = Σ_t ‖a_t‖‖g_t‖ [slots]
     * and the γ of its norm computation and of its clipped-sum computation ({@link ClipBound#gamma}).
     */
    void addUnformed(int param, NDArray squaredNorms, NDArray m, double normGamma, double sumGamma) {
        int g = policy.groupOf(param);
        plus(0, g, Precision.f64(squaredNorms));
        NDArray m2 = Precision.f64(m).square();
        plus(1, g, Precision.f64(m2.mul(normGamma)));
        plus(2, g, Precision.f64(m2.mul(sumGamma * sumGamma)));
    }

    /** The device arrays this holds now (they must outlive the {@link TapScope} of the tap that added to them). */
    List<NDArray> live() {
        if (terms != null) return new ArrayList<>(terms);
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

    /** Adds the float64 term {@code d} to sum {@code kind} of group {@code g}, or records it. */
    private void plus(int kind, int g, NDArray d) {
        if (terms != null) {
            where.add(new int[] {kind, g});
            terms.add(d);
            return;
        }
        NDArray[] perGroup = kind(kind);
        perGroup[g] = sum(perGroup[g], d);
    }

    private NDArray[] kind(int kind) {
        return kind == 0 ? squared : kind == 1 ? normSlack : sumSlack;
    }

    private static NDArray sum(NDArray sum, NDArray d) {
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
