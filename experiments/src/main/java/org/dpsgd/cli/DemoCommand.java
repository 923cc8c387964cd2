package org.dpsgd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.dpsgd.UserError;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.dpsgd.run.Progress;
import org.dpsgd.run.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description = {
            "Trains DP-SGD on Fashion-MNIST on the CPU at ε = 3, δ = 1e-5 (Poisson sampling, RDP accounting, secure noise)",
            "and prints the test accuracy and ε. The recipe is embedded (experiments/configs/fashion-mnist-eps3.yaml)."
        })
final class DemoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    static final String RECIPE = "/demo/fashion-mnist-eps3.yaml";

    @Option(
            names = "--out",
            description = "Keep the run folder here (default: a temporary folder, removed at the end).")
    Path out;

    @Option(
            names = "--json",
            description = "Make the last stdout line one JSON object: test_accuracy, epsilon, delta, steps, seconds.")
    boolean json;

    @Option(
            names = "--set",
            paramLabel = "KEY=VALUE",
            description =
                    "Change the recipe for a quick trial, e.g. --set training.epochs=1 (the result is then not the demo's).")
    List<String> sets = new ArrayList<>();

    @Override
    public Integer call() throws IOException {
        long t0 = System.nanoTime();
        ExperimentConfig cfg = ConfigLoader.applyOverrides(recipe(), ConfigLoader.parseOverrides(sets));
        Path dir = out != null ? out : Files.createTempDirectory("dpsgd-demo-").resolve("run");
        PrintStream say = CliOutput.stream(CliOutput.err(spec));
        say.println("dpsgd demo: " + cfg.model().name() + " on Fashion-MNIST, target ε = "
                + cfg.privacy().targetEpsilon()
                + ", δ = " + cfg.privacy().delta() + ", Poisson sampling, "
                + cfg.privacy().accountant() + " accounting, "
                + cfg.privacy().noise() + " noise" + (sets.isEmpty() ? "" : ", with changes " + sets));
        TrainingRun.Result r;
        try {
            r = TrainingRun.start(
                    cfg,
                    dir,
                    new TrainingRun.Options(
                            null, null, CliOutput.stream(CliOutput.out(spec)), say, Progress.forConsole(say), null));
        } finally {
            if (out == null) deleteTree(dir.getParent(), CliOutput.err(spec));
        }
        double seconds = (System.nanoTime() - t0) * 1e-9;
        double accuracy = reportedAccuracy(r);
        CliOutput.out(spec)
                .printf(
                        Locale.ROOT,
                        "test accuracy %.2f%%%s at ε = %.3f (δ = %s) after %d steps in %.0f s%s%n",
                        100 * accuracy,
                        Double.isNaN(r.emaTestAccuracy()) ? "" : " (EMA parameters)",
                        r.epsilon(),
                        r.delta(),
                        r.steps(),
                        seconds,
                        out == null ? "" : "; run folder " + out);
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("test_accuracy", accuracy);
            m.put("epsilon", r.epsilon());
            m.put("delta", r.delta());
            m.put("steps", r.steps());
            m.put("seconds", seconds);
            CliOutput.out(spec).println(new ObjectMapper().writeValueAsString(m));
        }
        return 0;
    }

    /** With EMA in the recipe the released model is the EMA one, so that is the accuracy reported. */
    static double reportedAccuracy(TrainingRun.Result r) {
        return Double.isNaN(r.emaTestAccuracy()) ? r.testAccuracy() : r.emaTestAccuracy();
    }

    static ExperimentConfig recipe() {
        try (InputStream in = DemoCommand.class.getResourceAsStream(RECIPE)) {
            if (in == null)
                throw new UserError("the embedded demo recipe " + RECIPE + " is missing from the jar; rebuild dpsgd");
            return ConfigLoader.parse(
                    new String(in.readAllBytes(), StandardCharsets.UTF_8), "embedded demo recipe " + RECIPE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the embedded demo recipe: " + e.getMessage(), e);
        }
    }

    static void deleteTree(Path root, PrintWriter err) {
        if (root == null || !Files.exists(root)) return;
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            err.println("note: could not remove the temporary run folder " + root + ": " + e.getMessage());
        }
    }
}
