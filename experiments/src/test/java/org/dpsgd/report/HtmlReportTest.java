package org.dpsgd.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.dpsgd.run.RunDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

class HtmlReportTest {
    @TempDir
    Path dir;

    /** A run folder as TrainingRun writes it. */
    static Path fakeRun(Path root, String name, String backend, double lr, double exPerS, double finalAcc) {
        RunDirectory rd = RunDirectory.create(root.resolve(name));
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("name", "exp");
        info.put("status", "finished");
        info.put("backend", backend);
        info.put("device", backend.equals("ipu") ? "ipu x16" : "cpu");
        info.put("model", "small-cnn");
        info.put("layout", Map.of("micro_batch_size", 16, "accumulation", 4, "replicas", 2));
        info.put("delta", 1e-5);
        info.put("epsilon_holds", !name.endsWith("-lr")); // the "-lr" run stands for one with insecure noise
        info.put(
                "config",
                Map.of(
                        "name",
                        "exp",
                        "optimizer",
                        Map.of("lr", lr),
                        "backend",
                        Map.of("name", backend),
                        "model",
                        Map.of("name", "small-cnn")));
        info.put(
                "final",
                Map.of(
                        "step",
                        20,
                        "epsilon",
                        1.5,
                        "test_accuracy",
                        finalAcc,
                        "examples_per_s",
                        exPerS,
                        "seconds",
                        12.5));
        rd.writeRunInfo(info);
        for (int s = 2; s <= 20; s += 2) {
            rd.metrics()
                    .append(Map.of(
                            "kind",
                            "train",
                            "step",
                            s,
                            "loss",
                            2.0 / s,
                            "accuracy",
                            0.5 + s / 100.0,
                            "epsilon",
                            0.07 * s));
            if (s % 10 == 0)
                rd.metrics()
                        .append(Map.of(
                                "kind",
                                "eval",
                                "step",
                                s,
                                "test_accuracy",
                                finalAcc - (20 - s) / 100.0,
                                "epsilon",
                                0.07 * s));
        }
        rd.metrics().close();
        return rd.root();
    }

    @Test
    void reportIsWellFormedSelfContainedAndHasEveryRunAndChart() throws Exception {
        Path a = fakeRun(dir, "run-djl", "djl", 0.1, 850, 0.81);
        Path b = fakeRun(dir, "run-ipu", "ipu", 0.1, 5900, 0.82);
        Path c = fakeRun(dir, "run-lr", "djl", 0.4, 800, 0.79);
        Path csv = dir.resolve("sweep.csv");
        Files.writeString(
                csv,
                "optimizer.lr,status,test_accuracy,epsilon,examples_per_s,seconds,steps,run_dir\n"
                        + "0.1,finished,0.81,1.5,850,12.5,20,run-djl\n0.9,finished,0.5,1.5,10,1,20,\"gone, missing\"\n");
        List<RunSummary> runs = new java.util.ArrayList<>();
        for (Path p : List.of(a, b, c, csv)) runs.addAll(RunLoader.load(p));
        assertEquals(5, runs.size());
        Path out = dir.resolve("out/report.html");
        List<Path> pngs = HtmlReport.write(runs, out);

        String html = Files.readString(out, StandardCharsets.UTF_8);
        Document doc = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(out.toFile()); // throws unless well-formed
        for (String label : List.of("run-djl", "run-ipu", "run-lr", "gone, missing"))
            assertTrue(html.contains(label), label);
        NodeList svgs = doc.getElementsByTagName("svg");
        assertEquals(pngs.size(), svgs.getLength());
        assertTrue(svgs.getLength() >= 6, "loss/accuracy vs step and ε, throughput");
        assertTrue(html.contains("stroke:rgb(31,119,180)"), "curves are drawn");
        assertFalse(
                html.contains("http:")
                        || html.contains("https:")
                        || html.contains("<script")
                        || html.contains("<link")
                        || html.contains("src="),
                "no external resources");
        assertTrue(html.contains("16 × 4 × 2"), "batch plan");
        assertTrue(html.contains("1.500 (not a guarantee)"), "an ε that is not a guarantee is flagged");
        assertEquals(1, html.split("not a guarantee", -1).length - 1, "only that run is flagged");
        assertTrue(html.contains("Same experiment, different backends"), "djl and ipu runs of one config are lined up");
        assertTrue(html.contains("optimizer.lr"), "the config diff names the differing key");
        assertFalse(html.matches("(?s).*<td class=\"k\">backend.name</td>.*<h2>Charts.*")
                && !html.contains("Config differences"));
        for (Path png : pngs) {
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, png + " decodes");
            assertTrue(img.getWidth() > 500 && img.getHeight() > 300);
        }
    }

    @Test
    void throughputBarsAverageEachBackend() {
        List<RunSummary> runs = List.of(
                RunLoader.fromRunDir(fakeRun(dir, "a", "djl", 0.1, 100, 0.5)),
                RunLoader.fromRunDir(fakeRun(dir, "b", "djl", 0.2, 300, 0.5)),
                RunLoader.fromRunDir(fakeRun(dir, "c", "ipu", 0.1, 1000, 0.5)));
        Chart bars = HtmlReport.charts(runs).stream()
                .filter(Chart::isBarChart)
                .findFirst()
                .orElseThrow();
        assertEquals(List.of(new Chart.Bar("djl cpu", 200), new Chart.Bar("ipu ipu x16", 1000)), bars.bars());
    }

    @Test
    void configDiffListsOnlyDifferingKeys() {
        RunSummary x = RunLoader.fromRunDir(fakeRun(dir, "x", "djl", 0.1, 1, 0.5));
        RunSummary y = RunLoader.fromRunDir(fakeRun(dir, "y", "djl", 0.3, 1, 0.5));
        String diff = HtmlReport.configDiff(List.of(x, y));
        assertTrue(diff.contains("optimizer.lr") && diff.contains("0.3"));
        assertFalse(diff.contains("model.name"));
    }

    /** Rows written one by one (as sweep appends them) read back cell for cell, commas, quotes and line breaks included. */
    @Test
    void csvQuotingRoundTrips() throws IOException {
        List<List<String>> rows = List.of(
                List.of("k", "status"),
                List.of("a", "b,c"),
                List.of("say \"hi\"", ""),
                List.of("failed: two\nlines", "x"));
        Path f = dir.resolve("t.csv");
        for (List<String> r : rows)
            Files.writeString(
                    f,
                    Csv.line(r) + "\n",
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        assertEquals("a,\"b,c\"", Files.readAllLines(f).get(1));
        assertEquals(rows, Csv.read(f));
    }

    @Test
    void escapesMarkup() throws IOException {
        assertEquals("&lt;b&gt; &amp; &quot;q&quot;", Html.text("<b> & \"q\""));
    }
}
