package org.dpsgd.accounting;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rényi-DP accountant for Poisson-sampled Gaussian steps: RDP adds up over compositions at each
 * order of the grid, and ε(δ) is the best conversion over the grid ({@link RdpConversion}).
 * Composing is O(1) (the ledger merges repeats); the RDP curve of each distinct (q, σ) is computed
 * once per process and cached.
 */
public final class RdpAccountant implements Accountant {
    public static final String NAME = "rdp";

    private final List<Double> orders;
    private final PrivacyLedger ledger = new PrivacyLedger();
    /**
     * RDP curves by (orders, q, σ), shared by all instances: trainers build fresh accountants to ask
     * "what if", and a curve costs milliseconds. Bounded LRU; the arrays are never mutated.
     */
    private static final Map<List<Object>, double[]> CURVES =
            Collections.synchronizedMap(new LinkedHashMap<>(64, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<List<Object>, double[]> eldest) {
                    return size() > 256;
                }
            });

    /** Uses dp_accounting's default order grid ({@link RdpOrders#defaults()}). */
    public RdpAccountant() {
        this(RdpOrders.defaults());
    }

    /** Uses the RDP order grid {@code orders} (non-empty, each finite and > 1; ε is the best conversion over it). */
    public RdpAccountant(List<Double> orders) {
        this.orders = RdpOrders.validate(orders);
    }

    /** Forgets the shared RDP curves (benchmarks use it to time ε from scratch). */
    public static void clearCurveCache() {
        CURVES.clear();
    }

    @Override
    public String name() {
        return NAME;
    }

    /** The RDP orders α this accountant composes and converts at (immutable). */
    public List<Double> orders() {
        return orders;
    }

    @Override
    public void compose(DpEvent event) {
        ledger.append(event);
    }

    @Override
    public double epsilon(double delta) {
        return epsilonAndOrder(delta).epsilon();
    }

    /** ε and the order that achieved it. */
    public RdpConversion.EpsilonAndOrder epsilonAndOrder(double delta) {
        // Nothing composed: ε = 0 exactly, and the only case where a zero RDP is legitimate.
        if (SampledGaussian.flatten(ledger.events()).isEmpty()) {
            if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
            return new RdpConversion.EpsilonAndOrder(0, Double.NaN);
        }
        return RdpConversion.epsilon(orders, totalRdp(), delta);
    }

    /** The composed RDP at each order of {@link #orders()}. */
    public double[] totalRdp() {
        double[] total = new double[orders.size()];
        for (SampledGaussian term : SampledGaussian.flatten(ledger.events())) {
            double[] curve = curve(term.samplingRate(), term.noiseMultiplier());
            for (int k = 0; k < total.length; k++) total[k] += term.count() * curve[k];
        }
        return total;
    }

    private double[] curve(double q, double sigma) {
        List<Object> key = List.of(orders, q, sigma);
        double[] c = CURVES.get(key);
        if (c == null) {
            c = new double[orders.size()];
            for (int k = 0; k < c.length; k++) c[k] = RdpSampledGaussian.rdp(q, sigma, orders.get(k));
            CURVES.put(key, c);
        }
        return c;
    }

    @Override
    public List<DpEvent> ledger() {
        return ledger.events();
    }
}
