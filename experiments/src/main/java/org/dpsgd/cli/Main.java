package org.dpsgd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dpsgd} command. Each subcommand lives in its own class. */
@Command(
        name = "dpsgd",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Differentially private SGD for image classifiers on IPUs, GPUs and CPUs.",
        subcommands = {
            BackendsCommand.class,
            BenchCommand.class,
            TrainCommand.class,
            AuditCommand.class,
            DemoCommand.class,
            CompareCommand.class,
            SweepCommand.class,
            IpuCommand.class,
            PrivacyCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of {@link #main}). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            // Errors users can fix are reported in one line, without a stack trace.
            if (ex instanceof IllegalArgumentException
                    || ex instanceof IllegalStateException
                    || ex instanceof java.io.IOException
                    || ex instanceof java.io.UncheckedIOException) {
                cmd.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
