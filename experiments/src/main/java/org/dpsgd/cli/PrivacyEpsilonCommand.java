package org.dpsgd.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.accounting.Accountant;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.Accountants;
import org.dpsgd.accounting.DpEvent;
import org.dpsgd.accounting.RdpAccountant;
import org.dpsgd.accounting.RdpConversion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "epsilon",
        mixinStandardHelpOptions = true,
        description = "ε(δ) after T DP-SGD steps with Poisson sampling rate q and noise multiplier σ.")
final class PrivacyEpsilonCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    PrivacyRunShape shape;

    @Option(names = "--noise-multiplier", paramLabel = "S", description = "Noise multiplier σ > 0.")
    Double noiseMultiplier;

    @Option(names = "--delta", paramLabel = "D", description = "δ in (0, 1), below 1/N.")
    Double delta;

    @Option(
            names = "--accountant",
            paramLabel = "rdp|pld",
            defaultValue = "rdp",
            description = "Accountant (default: ${DEFAULT-VALUE}).")
    String accountant;

    @Option(names = "--json", description = "One JSON object on one line.")
    boolean json;

    @Override
    public Integer call() {
        PrivacyRunShape.Resolved run = shape.resolve();
        double sigma = PrivacyArgs.noiseMultiplier(noiseMultiplier);
        double d = PrivacyArgs.delta(delta, run.datasetSize(), CliOutput.err(spec));
        AccountantKind name = PrivacyArgs.accountant(accountant);
        Accountant a = Accountants.create(name);
        a.compose(new DpEvent.SelfComposed(DpEvent.dpSgdStep(run.samplingRate(), sigma), run.steps()));
        Map<String, Object> out = new LinkedHashMap<>();
        double order = Double.NaN;
        double eps;
        if (a instanceof RdpAccountant rdp) {
            RdpConversion.EpsilonAndOrder e = rdp.epsilonAndOrder(d);
            eps = e.epsilon();
            order = e.order();
        } else {
            eps = a.epsilon(d);
        }
        out.put("epsilon", eps);
        out.put("delta", d);
        out.put("noise_multiplier", sigma);
        out.put("sampling_rate", run.samplingRate());
        out.put("steps", run.steps());
        out.put("accountant", name);
        if (!Double.isNaN(order)) out.put("order", order);
        shape.describe(out);
        if (json) {
            PrivacyReport.printJson(CliOutput.out(spec), out);
        } else {
            CliOutput.out(spec)
                    .printf(
                            "ε = %s at δ = %s (%s accountant%s)%n",
                            PrivacyReport.number(eps), d, name, Double.isNaN(order) ? "" : ", best RDP order " + order);
            CliOutput.out(spec)
                    .printf(
                            "  q = %s, σ = %s, T = %d steps%n",
                            PrivacyReport.number(run.samplingRate()), sigma, run.steps());
        }
        return 0;
    }
}
