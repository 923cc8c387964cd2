package org.dpsgd.testing;

import java.util.ArrayList;
import java.util.List;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.DpEvent;

/**
 * A deliberately simple, conservative test accountant: it records events and bounds each
 * Poisson-sampled Gaussian by the Gaussian mechanism itself (RDP α/(2σ²), ignoring the
 * amplification by sampling, which can only lower it), converting with
 * ε = min_α Σ RDP(α) + log(1/δ)/(α-1). Never understates ε; much larger than the real accountants'.
 */
public final class UnamplifiedRdpAccountant implements Accountant {
    private final List<DpEvent> ledger = new ArrayList<>();
    private double rdpPerAlpha; // Σ 1/(2σ²); RDP(α) = α · rdpPerAlpha

    @Override
    public String name() {
        return "test-unamplified-rdp";
    }

    @Override
    public void compose(DpEvent event) {
        rdpPerAlpha += coefficient(event);
        ledger.add(event);
    }

    private static double coefficient(DpEvent e) {
        if (e instanceof DpEvent.Gaussian g) return 1 / (2 * g.noiseMultiplier() * g.noiseMultiplier());
        if (e instanceof DpEvent.PoissonSampled p) return coefficient(p.event());
        if (e instanceof DpEvent.SelfComposed s) return s.count() * coefficient(s.event());
        if (e instanceof DpEvent.Composed c)
            return c.events().stream()
                    .mapToDouble(UnamplifiedRdpAccountant::coefficient)
                    .sum();
        throw new IllegalArgumentException("unsupported event " + e);
    }

    @Override
    public double epsilon(double delta) {
        if (rdpPerAlpha == 0) return 0;
        double best = Double.POSITIVE_INFINITY;
        for (double a = 1.01; a < 10000; a *= 1.01)
            best = Math.min(best, a * rdpPerAlpha + Math.log(1 / delta) / (a - 1));
        return best;
    }

    @Override
    public List<DpEvent> ledger() {
        return List.copyOf(ledger);
    }
}
