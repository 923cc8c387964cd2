package org.dpsgd.ipu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;
import org.dpsgd.backend.BatchLayout;
import org.dpsgd.config.DataConfig;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.ipu.IpuMemoryPlanner.Estimate;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Network;
import org.dpsgd.model.Shape;

/**
 * What {@code dpsgd ipu plan --config FILE} prints: the batch layout the IPU would run (replicas,
 * accumulation, micro-batch, slots per call, expected calls per step), the memory estimate, and a
 * pipeline split when one IPU per replica is not enough (or when stages are asked for), without
 * reading the dataset (shapes come from the data format) and without an IPU. Settings the backend
 * would refuse at start-up (replicas not a power of two, a bad loss scale) are refused here too.
 */
public final class IpuPlanReport {
    private IpuPlanReport() {}

    /**
     * The plan of {@code cfg} without a requested pipeline (a split is shown only when one IPU is not enough).
     *
     * @param input per-sample shape, or null to infer it from data.format
     * @param classes class count, or null to infer it
     */
    public static String render(ExperimentConfig cfg, Shape input, Integer classes) {
        return render(cfg, input, classes, null);
    }

    /** @param stages pipeline stages to plan, or null for a split only when the model does not fit one IPU */
    public static String render(ExperimentConfig cfg, Shape input, Integer classes, Integer stages) {
        Shape shape = input != null ? input : inputShape(cfg.data());
        int k = classes != null ? classes : classes(cfg.data());
        Network net = ModelZoo.build(cfg.model(), shape, k);
        NormReduction.check(net);
        IpuSettings settings = IpuSettings.parse(cfg.backend().settings());
        int m = cfg.training().microBatchSize();
        int a = cfg.training().accumulation();
        BatchLayout layout = new BatchLayout(m, a, settings.replicas());
        int multiplicity = cfg.data().augmentation().multiplicity();
        // The IPU graph always forms per-sample gradients (the non-private baseline passes C = infinity), so the
        // estimate is the per-sample one whatever privacy.enabled says, as the backend's start-up check.
        Estimate e = IpuMemoryPlanner.estimate(
                new IpuMemoryPlanner.Request(net, m, multiplicity, settings.precision(), true, false));
        int b = cfg.training().batchSize();
        int perCall = layout.slotsPerCall();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "IPU plan for '%s'%n", cfg.name()));
        sb.append(String.format(
                Locale.ROOT,
                "layout               %d replica(s) x %d micro-batch(es) x %d slot(s) = %d slots per device call%n",
                layout.replicas(),
                a,
                m,
                perCall));
        sb.append(String.format(
                Locale.ROOT,
                "expected batch       %d -> about %d device call(s) per step%s%n",
                b,
                (b + perCall - 1) / perCall,
                settings.maxCalls() > 0 ? " (fixed at " + settings.maxCalls() + " by max_calls)" : ""));
        sb.append(e.render());
        if (stages != null) {
            sb.append(IpuPipelinePlanner.propose(net, stages, m, multiplicity, settings.precision())
                    .render());
        } else if (e.verdict() == IpuMemoryPlanner.Verdict.NEEDS_PIPELINING) {
            sb.append(IpuPipelinePlanner.propose(net, m, multiplicity, settings.precision())
                    .render());
        }
        if (e.verdict() != IpuMemoryPlanner.Verdict.FITS && settings.memoryCheck()) {
            sb.append(
                    "start-up             the ipu backend refuses this layout (backend.settings.memory_check: false to try anyway)\n");
        }
        return sb.toString();
    }

    static Shape inputShape(DataConfig d) {
        return switch (d.format()) {
            case "idx" -> new Shape(1, 28, 28);
            case "cifar10", "cifar100" -> new Shape(3, 32, 32);
            case "imagefolder" -> new Shape(3, d.imageSize(), d.imageSize());
            case "synthetic" -> Shape.parse(syntheticSpec(d)[0]);
            default ->
                throw new IllegalArgumentException(
                        "cannot infer the input shape of data.format " + d.format() + "; pass --input CxHxW");
        };
    }

    static int classes(DataConfig d) {
        return switch (d.format()) {
            case "idx", "cifar10" -> 10;
            case "cifar100" -> 100;
            case "synthetic" -> Integer.parseInt(syntheticSpec(d)[1].trim());
            case "imagefolder" -> countClassFolders(Path.of(d.path()));
            default ->
                throw new IllegalArgumentException(
                        "cannot infer the class count of data.format " + d.format() + "; pass --classes N");
        };
    }

    private static String[] syntheticSpec(DataConfig d) {
        String[] p = (d.path() == null ? "1x28x28/10" : d.path()).split("/");
        if (p.length != 2)
            throw new IllegalArgumentException("synthetic data.path must be CxHxW/classes, got '" + d.path() + "'");
        return p;
    }

    private static int countClassFolders(Path root) {
        Path train = Files.isDirectory(root.resolve("train")) ? root.resolve("train") : root;
        if (!Files.isDirectory(train))
            throw new IllegalArgumentException("data.path " + root + " is not a folder; pass --classes N");
        try (Stream<Path> s = Files.list(train)) {
            int n = (int) s.filter(Files::isDirectory).count();
            if (n == 0) throw new IllegalArgumentException("no class folders under " + train + "; pass --classes N");
            return n;
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}
