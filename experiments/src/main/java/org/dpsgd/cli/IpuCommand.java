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
            description = "Prints the IPU layout (replicas x accumulation x micro-batch), whether the model fits one IPU Mk2 per replica, "
                    + "and a pipeline split over several IPUs when it does not (or with --stages).")
    static final class Plan implements Callable<Integer> {
        @Option(names = "--config", required = true, description = "Experiment config (YAML or JSON).")
        Path config;

        @Option(names = "--input", paramLabel = "CxHxW", description = "Per-sample input shape (default: from data.format).")
        String input;

        @Option(names = "--classes", description = "Number of classes (default: from data.format).")
        Integer classes;

        @Option(names = "--stages", description = "Plan a pipeline of this many stages (IPUs) per replica (default: only when one IPU is not enough).")
        Integer stages;

        @Override
        public Integer call() {
            System.out.print(IpuPlanReport.render(ConfigLoader.load(config), input == null ? null : Shape.parse(input), classes, stages));
            return 0;
        }
    }
}
