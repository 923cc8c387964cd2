package org.dpsgd.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.dpsgd.backend.BackendSettings;
import org.dpsgd.backend.Backends;
import org.dpsgd.backend.DevicePlanner;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.model.Shape;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dpsgd ipu plan}: the IPU batch layout and memory estimate of a config (no IPU needed). */
@Command(
        name = "ipu",
        mixinStandardHelpOptions = true,
        description = "Graphcore IPU tools.",
        subcommands = {IpuCommand.Plan.class})
final class IpuCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(CliOutput.out(spec));
    }

    @Command(
            name = "plan",
            mixinStandardHelpOptions = true,
            description =
                    "Prints the IPU layout (replicas x accumulation x micro-batch), whether the model fits one IPU Mk2 per replica, "
                            + "and a pipeline split over several IPUs when it does not (or with --stages).")
    static final class Plan implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--config", required = true, description = "Experiment config (YAML or JSON).")
        Path config;

        @Option(
                names = "--input",
                paramLabel = "CxHxW",
                description = "Per-sample input shape (default: from data.format).")
        String input;

        @Option(names = "--classes", description = "Number of classes (default: from data.format).")
        Integer classes;

        @Option(
                names = "--instances",
                defaultValue = "1",
                description = "poprun instances (MPI ranks), each driving backend.settings.replicas "
                        + "replicas (default ${DEFAULT-VALUE}): plans one instance's share of each step.")
        int instances;

        @Option(
                names = "--set",
                paramLabel = "KEY=VALUE",
                description = "Override a config key, as for train (repeatable), e.g. --set training.accumulation=16.")
        java.util.Map<String, String> overrides = new java.util.LinkedHashMap<>();

        @Option(
                names = "--stages",
                description =
                        "Plan a pipeline of this many stages (IPUs) per replica (default: only when one IPU is not enough).")
        Integer stages;

        @Override
        public Integer call() {
            if (instances < 1) throw new IllegalArgumentException("--instances must be >= 1, got " + instances);
            if (instances > 1 && stages != null && stages > 1)
                throw new IllegalArgumentException("--stages " + stages + " with --instances " + instances
                        + ": a graph over several poprun instances puts each replica on one IPU (no pipeline)");
            ExperimentConfig cfg = ConfigLoader.applyOverrides(ConfigLoader.load(config), overrides);
            BackendSettings.checkConfig(cfg, null, ConfigLoader.source(config.toString(), overrides));
            // Through the backend SPI: this command does not depend on the IPU backend's module.
            DevicePlanner planner = Backends.planner("ipu");
            Shape shape = input == null ? null : Shape.parse(input);
            if (instances == 1) {
                CliOutput.out(spec).print(planner.plan(cfg, shape, classes, stages));
                return 0;
            }
            // Each instance Poisson-samples its shard at the global q, so it expects B/W of each step's examples.
            int b = cfg.training().batchSize();
            int share = Math.max(1, (b + instances - 1) / instances);
            ExperimentConfig perInstance =
                    ConfigLoader.applyOverrides(cfg, java.util.Map.of("training.batch_size", String.valueOf(share)));
            String plan = planner.plan(perInstance, shape, classes, stages);
            int replicas = Integer.parseInt(
                    cfg.backend().settings().getOrDefault("replicas", "1").trim());
            // The plan's own parameter count (it knows the data format's input shape and classes).
            java.util.regex.Matcher pm =
                    java.util.regex.Pattern.compile("parameters\\s+([\\d,]+)").matcher(plan);
            long params = pm.find() ? Long.parseLong(pm.group(1).replace(",", "")) : 0;
            StringBuilder sb = new StringBuilder(plan.replaceFirst(
                    "\\n",
                    String.format(
                            java.util.Locale.ROOT,
                            " (one of %d instances; expected batch below is this instance's share of %d)%n",
                            instances,
                            b)));
            int ipusPerReplica = stages == null ? 1 : stages;
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "instances            %d x %d replica(s) x %d IPU(s) = %d IPUs (one MPI rank per instance)%n",
                    instances,
                    replicas,
                    ipusPerReplica,
                    instances * replicas * ipusPerReplica));
            // One graph over every instance's replicas: GCL's all-reduce in the drain sums the whole run's clipped
            // gradients on the device; the host then only shares rank 0's noisy sum (no host sum).
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "device all-reduce    ~%,d floats (%.1f MB) per logical step over all %d replicas of the %d "
                            + "instances (GCL: IPU-Links and gateway links; one graph, each instance runs its %d)%n",
                    params,
                    params * 4 / 1e6,
                    instances * replicas,
                    instances,
                    replicas));
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "host broadcast       ~%,d floats (%.1f MB) per logical step from rank 0 (its noisy sum) to the "
                            + "other %d instance(s); no host sum%n",
                    params,
                    params * 4 / 1e6,
                    instances - 1));
            sb.append(String.format(
                    java.util.Locale.ROOT,
                    "launch               poprun --num-instances %d --num-replicas %d --ipus-per-replica %d "
                            + "./dpsgd train --config %s --backend ipu --set backend.settings.replicas=%d%s%n",
                    instances,
                    instances * replicas,
                    ipusPerReplica,
                    config,
                    replicas,
                    overrides.entrySet().stream()
                            .filter(e -> !e.getKey().equals("backend.settings.replicas"))
                            .map(e -> " --set " + e.getKey() + "=" + e.getValue())
                            .collect(java.util.stream.Collectors.joining())));
            CliOutput.out(spec).print(sb);
            return 0;
        }
    }
}
