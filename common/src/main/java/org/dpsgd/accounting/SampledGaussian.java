package org.dpsgd.accounting;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code count} compositions of the Poisson-sampled Gaussian with rate q and noise multiplier σ:
 * the only mechanism the accountants need to understand. Every supported {@link DpEvent} tree
 * reduces to a list of these.
 */
public record SampledGaussian(double samplingRate, double noiseMultiplier, long count) {

    public SampledGaussian {
        if (!(samplingRate > 0 && samplingRate <= 1))
            throw new IllegalArgumentException("sampling rate must be in (0, 1], got " + samplingRate);
        if (!(noiseMultiplier > 0) || Double.isInfinite(noiseMultiplier))
            throw new IllegalArgumentException("noise multiplier must be a finite number > 0, got " + noiseMultiplier);
        if (count < 0) throw new IllegalArgumentException("count must be >= 0, got " + count);
    }

    /**
     * Reduces an event tree to sampled-Gaussian terms, merging equal (q, σ) pairs (composition is
     * commutative, so their order does not matter).
     * Gaussian(σ) is q = 1. PoissonSampled(q, e) needs e to be a Gaussian, a nested PoissonSampled
     * (rates multiply) or a Composed/SelfComposed of Gaussians released on the same sample (one
     * Gaussian with σ_eff = (Σ σ_i⁻²)^(−1/2), as dp_accounting's RDP accountant does).
     */
    public static List<SampledGaussian> flatten(List<DpEvent> events) {
        Map<List<Double>, Long> counts = new LinkedHashMap<>();
        for (DpEvent e : events) collect(e, 1, counts);
        List<SampledGaussian> out = new ArrayList<>();
        counts.forEach((key, n) -> {
            if (n > 0) out.add(new SampledGaussian(key.get(0), key.get(1), n));
        });
        return out;
    }

    private static void collect(DpEvent event, long times, Map<List<Double>, Long> counts) {
        if (event == null) throw new IllegalArgumentException("DP event must not be null");
        if (times == 0) return;
        if (event instanceof DpEvent.Gaussian g) {
            add(counts, 1.0, g.noiseMultiplier(), times);
        } else if (event instanceof DpEvent.PoissonSampled p) {
            double q = p.samplingRate();
            DpEvent inner = p.event();
            while (inner instanceof DpEvent.PoissonSampled nested) {
                q *= nested.samplingRate();
                inner = nested.event();
            }
            add(counts, q, effectiveSigma(inner, p), times);
        } else if (event instanceof DpEvent.SelfComposed s) {
            collect(s.event(), Math.multiplyExact(times, s.count()), counts);
        } else if (event instanceof DpEvent.Composed c) {
            for (DpEvent e : c.events()) collect(e, times, counts);
        } else {
            throw new IllegalArgumentException("unsupported DP event: " + event);
        }
    }

    private static void add(Map<List<Double>, Long> counts, double q, double sigma, long times) {
        counts.merge(List.of(q, sigma), times, Math::addExact);
    }

    /** σ of the single Gaussian equivalent to everything released on one Poisson sample. */
    private static double effectiveSigma(DpEvent inner, DpEvent outer) {
        double precision = sumInverseVariance(inner, outer);
        if (!(precision > 0)) throw new IllegalArgumentException("Poisson-sampled event releases nothing: " + outer);
        return 1 / Math.sqrt(precision);
    }

    private static double sumInverseVariance(DpEvent e, DpEvent outer) {
        if (e instanceof DpEvent.Gaussian g) return 1 / (g.noiseMultiplier() * g.noiseMultiplier());
        if (e instanceof DpEvent.SelfComposed s) return s.count() * sumInverseVariance(s.event(), outer);
        if (e instanceof DpEvent.Composed c) {
            double sum = 0;
            for (DpEvent x : c.events()) sum += sumInverseVariance(x, outer);
            return sum;
        }
        throw new IllegalArgumentException(
                "cannot account a Poisson sample nested inside a composition on another Poisson sample: " + outer);
    }
}
