package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dpsgd.config.ConfigLoader;
import org.dpsgd.config.ExperimentConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every {@code dpsgd} command written in the header of a shipped config works as written: the
 * reduced-scale ones (after "Reduced scale" in the header) run to the end through the CLI, a
 * {@code compare} runs on what the file's reduced run wrote, and the full-scale ones (hours on an
 * IPU-POD or GPU) are parsed by the CLI and every config they would train is validated.
 */
class ConfigHeaderCommandsTest {
    @TempDir
    static Path work;

    /** One command of a header; {@code reduced} when it follows the header's "Reduced scale" line. */
    record HeaderCommand(Path file, int index, List<String> args, boolean reduced) {
        String name() {
            return file.getFileName() + " #" + index + (reduced ? " (reduced scale, run)" : " (full scale, validated)")
                    + ": " + String.join(" ", args);
        }
    }

    static Path repo() {
        return Path.of(System.getProperty("user.dir")).getParent();
    }

    static List<Path> configs() throws IOException {
        try (Stream<Path> s = Files.list(repo().resolve("experiments/configs"))) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    /** The commands of the leading comment block: "#   dpsgd ..." lines, joined over trailing backslashes, "# ..." comments cut. */
    static List<HeaderCommand> commands(Path file) throws IOException {
        List<HeaderCommand> out = new ArrayList<>();
        boolean reduced = false;
        StringBuilder pending = null;
        for (String line : Files.readAllLines(file)) {
            if (!line.startsWith("#")) break;
            String text = line.substring(1).trim();
            if (text.toLowerCase().startsWith("reduced scale")) reduced = true;
            if (pending == null && !text.startsWith("dpsgd ")) continue;
            int comment = text.indexOf(" #");
            if (comment >= 0) text = text.substring(0, comment).trim();
            boolean more = text.endsWith("\\");
            if (more) text = text.substring(0, text.length() - 1).trim();
            pending = pending == null
                    ? new StringBuilder(text)
                    : pending.append(' ').append(text);
            if (!more) {
                List<String> args =
                        new ArrayList<>(Arrays.asList(pending.toString().split("\\s+")));
                args.remove(0); // "dpsgd"
                out.add(new HeaderCommand(file, out.size() + 1, args, reduced));
                pending = null;
            }
        }
        return out;
    }

    @Test
    void everyConfigHeaderHasAFullScaleAndAReducedScaleCommand() throws IOException {
        for (Path f : configs()) {
            List<HeaderCommand> cs = commands(f);
            assertTrue(cs.stream().anyMatch(c -> !c.reduced()), f + " shows the full-scale command");
            assertTrue(cs.stream().anyMatch(HeaderCommand::reduced), f + " shows a reduced-scale command");
        }
    }

    @TestFactory
    Stream<DynamicTest> headerCommandsWork() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path f : configs()) {
            Map<String, Path> reducedOutputs = new LinkedHashMap<>();
            List<HeaderCommand> cs = commands(f);
            // compare reads what a run wrote, so it goes last.
            List<HeaderCommand> ordered = new ArrayList<>(
                    cs.stream().filter(c -> !c.args().get(0).equals("compare")).toList());
            ordered.addAll(
                    cs.stream().filter(c -> c.args().get(0).equals("compare")).toList());
            for (HeaderCommand c : ordered)
                tests.add(DynamicTest.dynamicTest(c.name(), () -> check(c, reducedOutputs)));
        }
        return tests.stream();
    }

    private static void check(HeaderCommand c, Map<String, Path> reducedOutputs) throws IOException {
        List<String> args = localise(c);
        String command = args.get(0);
        if (command.equals("compare")) {
            List<String> sources = new ArrayList<>();
            for (String a : args.subList(1, args.size()))
                if (!a.startsWith("--") && !a.endsWith(".html")) sources.add(a);
            Assumptions.assumeFalse(reducedOutputs.isEmpty(), "no reduced-scale run of this file to compare");
            Path reducedOut = reducedOutputs.values().iterator().next();
            for (String s : sources) {
                if (Files.exists(Path.of(s))) continue;
                // The full-scale run is not made here: compare what the reduced-scale run wrote, in the same form.
                args.set(
                        args.indexOf(s),
                        s.endsWith(".csv") ? reducedOut.resolve("sweep.csv").toString() : reducedOut.toString());
            }
            Object[] r = CommandsTest.cli(args.toArray(String[]::new));
            assertEquals(0, r[0], "stdout: " + r[1] + "\nstderr: " + r[2]);
            return;
        }
        if (c.reduced()) {
            if (args.contains("--config") || command.equals("sweep")) {
                ExperimentConfig cfg = load(args);
                if (cfg.data().format().equals("idx")) {
                    Assumptions.assumeTrue(
                            Files.isDirectory(Path.of(cfg.data().path())),
                            cfg.data().path() + " is not installed");
                }
            }
            Object[] r = CommandsTest.cli(args.toArray(String[]::new));
            assertEquals(0, r[0], "stdout: " + r[1] + "\nstderr: " + r[2]);
            assertFalse(((String) r[2]).contains("failed"), (String) r[2]);
            reducedOutputs.put(String.join(" ", c.args()), Path.of(args.get(args.indexOf("--out") + 1)));
            return;
        }
        // Full scale: the CLI accepts the arguments, and every config the command would train is valid.
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        assertTrue(parsed.hasSubcommand(), "a subcommand");
        switch (command) {
            case "train" -> load(args);
            case "sweep" -> {
                SweepCommand s =
                        (SweepCommand) parsed.subcommand().commandSpec().userObject();
                ExperimentConfig base = ConfigLoader.load(s.config);
                Map<String, List<String>> grid = SweepCommand.parseGrid(s.sets);
                for (Map<String, String> point : s.zip ? SweepCommand.zipped(grid) : SweepCommand.cartesian(grid)) {
                    ConfigLoader.applyOverrides(base, point);
                }
            }
            case "demo" -> {} // parsing is the check: the demo itself is a 12-minute run
            default -> throw new AssertionError("no check for '" + command + "' in " + c.name());
        }
    }

    /** The config a train/sweep command would load (with every single-valued --set applied). */
    private static ExperimentConfig load(List<String> args) {
        CommandLine.ParseResult parsed = new CommandLine(new Main()).parseArgs(args.toArray(String[]::new));
        Object cmd = parsed.subcommand().commandSpec().userObject();
        if (cmd instanceof TrainCommand t) {
            ExperimentConfig cfg = ConfigLoader.load(t.config, ConfigLoader.parseOverrides(t.sets));
            if (t.backend != null) cfg = cfg.withBackend(cfg.backend().withName(t.backend));
            return cfg;
        }
        SweepCommand s = (SweepCommand) cmd;
        return ConfigLoader.load(s.config);
    }

    /** Paths made absolute: configs in this checkout, outputs (runs/..., *.html) under a temporary folder. */
    private static List<String> localise(HeaderCommand c) {
        List<String> args = new ArrayList<>(c.args());
        Path out = work.resolve(c.file().getFileName().toString().replace(".yaml", ""))
                .resolve("cmd" + c.index());
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.startsWith("experiments/configs/"))
                args.set(i, repo().resolve(a).toString());
            else if (i > 0 && args.get(i - 1).equals("--out"))
                args.set(i, out.resolve(a).toString());
            else if (a.startsWith("runs/")) args.set(i, out.resolve(a).toString());
        }
        if ((args.get(0).equals("train") || args.get(0).equals("sweep")) && !args.contains("--out")) {
            args.add("--out");
            args.add(out.resolve("run").toString());
        }
        return args;
    }
}
