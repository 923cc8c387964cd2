package org.dpsgd.djl;

import org.dpsgd.backend.ClipPolicy;

/**
 * The host-side decision for one call: each slot's clip factor per group and whether the slot is
 * kept. A slot whose norms are not all finite (NaN/Inf gradient) is dropped: it contributes
 * exactly 0, by selection (see {@link ClipFactors#select}), never by a zero factor (0 × NaN = NaN).
 * Padding slots get factor 0 and are dropped too if their (zeroed) data somehow produced a
 * non-finite norm.
 */
final class ClipDecision {
    /** [group][slot]. */
    final double[][] factors;

    final boolean[] keep;
    boolean anyDropped;
    long clipped;
    long nonFinite;
    double normSum;

    private ClipDecision(int groups, int slots) {
        this.factors = new double[groups][slots];
        this.keep = new boolean[slots];
    }

    /**
     * Decides from a call's {@link SlotNorms}; {@code real} says which slots are real examples and
     * {@code norms} receives each slot's total norm (0 for padding). {@code stepExamples} is B_cap,
     * the data-independent bound on the step's real examples the cross-slot cap counts (0 = not
     * known: a step of this one call, at most {@code slots} examples).
     */
    static ClipDecision decide(ClipPolicy policy, SlotNorms sn, boolean[] real, double[] norms, int stepExamples) {
        double[][] squared = sn.squared();
        double[][] normSlack = sn.normSlack();
        double[][] sumSlack = sn.sumSlack();
        int groups = policy.groups();
        int slots = real.length;
        ClipBound.checkSlots(slots);
        // The cross-slot cap counts every real example whose rounding can move when one is removed:
        // the whole step's (repacking shifts later examples into other calls), at most B_cap.
        int crossSlots = stepExamples > 0 ? stepExamples : slots;
        ClipDecision d = new ClipDecision(groups, slots);
        double[] thresholds = policy.thresholds();
        for (int i = 0; i < slots; i++) {
            double total = 0;
            boolean finite = true;
            for (int g = 0; g < groups; g++) {
                total += squared[g][i];
                finite &= Double.isFinite(squared[g][i])
                        && Double.isFinite(normSlack[g][i])
                        && Double.isFinite(sumSlack[g][i]);
            }
            double norm = Math.sqrt(Math.max(0, total));
            finite &= Double.isFinite(norm);
            d.keep[i] = finite;
            if (!finite) d.anyDropped = true;
            if (!real[i]) {
                norms[i] = 0;
                continue;
            }
            norms[i] = norm;
            if (!finite) {
                d.nonFinite++;
                continue;
            }
            d.normSum += norm;
            boolean clippedHere = false;
            for (int g = 0; g < groups; g++) {
                double f = ClipBound.factor(
                        ClipBound.boundingNorm(squared[g][i], normSlack[g][i], sumSlack[g][i], crossSlots),
                        thresholds[g]);
                d.factors[g][i] = f;
                clippedHere |= f < 1;
            }
            if (clippedHere) d.clipped++;
        }
        return d;
    }
}
