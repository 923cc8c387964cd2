package org.dpsgd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dpsgd privacy}: ε of a DP-SGD run, σ for a target ε, and accountant timings. */
@Command(
        name = "privacy",
        mixinStandardHelpOptions = true,
        description = "Privacy accounting for DP-SGD (Poisson sampling, Gaussian noise, add/remove-one adjacency).",
        subcommands = {PrivacyEpsilonCommand.class, PrivacyCalibrateCommand.class, PrivacyBenchCommand.class})
final class PrivacyCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(CliOutput.out(spec));
    }
}
