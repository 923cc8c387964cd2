package org.dpsgd.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.dpsgd.accounting.AccountantKind;
import org.dpsgd.accounting.NoiseCalibration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "calibrate",
        mixinStandardHelpOptions = true,
        description =
                "The smallest noise multiplier σ whose ε after T steps at rate q is at most the target (bisection).")
final class PrivacyCalibrateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    PrivacyRunShape shape;

    @Option(names = "--target-epsilon", paramLabel = "E", description = "Target ε > 0.")
    Double targetEpsilon;

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
        double target = PrivacyArgs.targetEpsilon(targetEpsilon);
        double d = PrivacyArgs.delta(delta, run.datasetSize(), CliOutput.err(spec));
        AccountantKind name = PrivacyArgs.accountant(accountant);
        NoiseCalibration.Result r = NoiseCalibration.calibrate(target, d, run.samplingRate(), run.steps(), name);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("epsilon", r.epsilon());
        out.put("delta", d);
        out.put("noise_multiplier", r.noiseMultiplier());
        out.put("sampling_rate", run.samplingRate());
        out.put("steps", run.steps());
        out.put("accountant", name);
        out.put("target_epsilon", target);
        shape.describe(out);
        if (json) {
            PrivacyReport.printJson(CliOutput.out(spec), out);
        } else {
            CliOutput.out(spec)
                    .printf(
                            "σ = %s reaches ε = %s <= %s at δ = %s (%s accountant)%n",
                            PrivacyReport.number(r.noiseMultiplier()),
                            PrivacyReport.number(r.epsilon()),
                            target,
                            d,
                            name);
            CliOutput.out(spec)
                    .printf("  q = %s, T = %d steps%n", PrivacyReport.number(run.samplingRate()), run.steps());
        }
        return 0;
    }
}
