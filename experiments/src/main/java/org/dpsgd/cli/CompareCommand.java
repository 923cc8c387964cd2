package org.dpsgd.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.dpsgd.report.HtmlReport;
import org.dpsgd.report.RunLoader;
import org.dpsgd.report.RunSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        description = {
            "Writes a self-contained HTML report (tables, inline SVG charts, config differences) comparing runs,",
            "and the same charts as PNG files next to it."
        })
final class CompareCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(
            arity = "1..*",
            paramLabel = "RUN_DIR_OR_CSV",
            description = "Run folders, sweep folders or sweep.csv files.")
    List<Path> sources;

    @Option(names = "--out", description = "The HTML file to write (default: report.html).")
    Path out = Path.of("report.html");

    @Override
    public Integer call() {
        List<RunSummary> runs = new ArrayList<>();
        for (Path s : sources) runs.addAll(RunLoader.load(s));
        List<Path> pngs = HtmlReport.write(runs, out);
        CliOutput.out(spec)
                .println("wrote " + out + " (" + runs.size() + " runs) and " + pngs.size() + " PNG charts next to it");
        return 0;
    }
}
