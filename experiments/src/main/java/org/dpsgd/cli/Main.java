package org.dpsgd.cli;

import org.dpsgd.UserError;
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
        return execute(new CommandLine(new Main()), args);
    }

    /** Executes {@code args} on {@code cl} with dpsgd's error policy (user error: exit 2; bug: exit 1). */
    static int execute(CommandLine cl, String... args) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (isUserError(ex)) {
                // Errors users can fix are reported in one line, without a stack trace.
                cmd.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            // Anything else is a bug in dpsgd: show everything needed to fix it, and ask for it.
            ex.printStackTrace(cmd.getErr());
            cmd.getErr()
                    .println("internal error: this is a bug in dpsgd, not in your input ("
                            + ex.getClass().getName()
                            + "); please report it with the stack trace above and the command line: dpsgd "
                            + String.join(" ", args));
            return 1;
        });
        try {
            return cl.execute(args);
        } finally {
            // A command's last print may lack a newline (the writers flush on println only).
            cl.getOut().flush();
            cl.getErr().flush();
        }
    }

    /**
     * Whether {@code ex} is something the user can fix (exit 2, one line): bad input ({@link IllegalArgumentException}),
     * an I/O failure, or a {@link UserError}. A plain {@link IllegalStateException} is an internal invariant: a bug.
     */
    static boolean isUserError(Throwable ex) {
        return ex instanceof UserError
                || ex instanceof IllegalArgumentException
                || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException;
    }

    @Override
    public void run() {
        spec.commandLine().usage(CliOutput.out(spec));
    }
}
