package org.dpsgd.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.ipu.IpuPlanReport;
import org.dpsgd.model.Shape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dpsgd ipu plan}: the IPU batch layout and memory estimate of a config (no IPU needed). */
@Command(name = "ipu", mixinStandardHelpOptions = true, description = "Graphcore IPU tools.",
        subcommands = {IpuCommand.Plan.class})
final class IpuCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "plan", mixinStandardHelpOptions = true,
            description = "Prints the IPU layout (replicas x accumulation x micro-batch) and whether the model fits one IPU Mk2 per replica.")
    static final class Plan implements Callable<Integer> {
        @Option(names = "--config", required = true, description = "Experiment config (YAML or JSON).")
        Path config;

        @Option(names = "--input", paramLabel = "CxHxW", description = "Per-sample input shape (default: from data.format).")
        String input;

        @Option(names = "--classes", description = "Number of classes (default: from data.format).")
        Integer classes;

        @Override
        public Integer call() {
            System.out.print(IpuPlanReport.render(ConfigLoader.load(config), input == null ? null : Shape.parse(input), classes));
            return 0;
        }
    }
}
