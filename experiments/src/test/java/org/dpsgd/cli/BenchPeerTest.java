package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.dpsgd.model.ModelSpec;
import org.dpsgd.model.ModelZoo;
import org.dpsgd.model.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The PyTorch/Opacus peer of dpsgd bench, with fake peers (tiny /bin/sh scripts) standing in for torch_peer.py. */
class BenchPeerTest {
    @TempDir
    Path dir;

    private static final String PEER_JSON =
            "{\"model\": \"small-cnn\", \"batch\": 4, \"parameters\": %d, \"results\": ["
                    + "{\"strategy\": \"torch-nonprivate\", \"median_ms\": 5.0, \"examples_per_s\": 800.0, \"ratio\": 1.0, \"peak_mb\": 300.5},"
                    + " {\"strategy\": \"opacus\", \"median_ms\": 30.0, \"examples_per_s\": 133.33, \"ratio\": 6.0, \"peak_mb\": null}],"
                    + " \"versions\": {\"torch\": \"1.13.0\", \"opacus\": \"1.4.0\", \"wait\": \"%s\"}}";

    private static BenchResult row(String strategy, double ms) {
        return new BenchResult(strategy, ms, 4000 / ms, Double.NaN, 100, Double.NaN, Double.NaN, Double.NaN);
    }

    /** A fake peer: exits 0 on --check; otherwise writes its arguments to args.txt, chats on stderr and stdout, prints the JSON line. */
    private Path fakePeer(long parameters) throws Exception {
        Path script = dir.resolve("fake_peer.sh");
        Files.writeString(
                script,
                "for a in \"$@\"; do [ \"$a\" = --check ] && exit 0; done\n"
                        + "echo \"$@\" > '" + dir.resolve("args.txt") + "'\n"
                        + "echo 'torch_peer: warming up torch-nonprivate' >&2\n"
                        + "echo 'a stray line'\n"
                        + "echo '" + String.format(PEER_JSON, parameters, "'\"$OMP_WAIT_POLICY\"'") + "'\n");
        return script;
    }

    /** A fake peer without torch: fails on --check as the real script does. */
    private Path missingTorchPeer() throws Exception {
        Path script = dir.resolve("no_torch.sh");
        Files.writeString(
                script,
                "echo 'Traceback (most recent call last): noise' >&2\n"
                        + "echo \"torch_peer: error: PyTorch cannot be imported (No module named 'torch'): install it with "
                        + "'apt-get install python3-torch'\" >&2\nexit 3\n");
        return script;
    }

    @Test
    void parsesTheLastJsonLine() {
        TorchPeer.Report r = TorchPeer.parse("warming up\n" + String.format(PEER_JSON, 123, "PASSIVE") + "\n");
        assertEquals(123, r.parameters());
        assertEquals(2, r.results().size());
        assertEquals("torch-nonprivate", r.results().get(0).strategy());
        assertEquals(5.0, r.results().get(0).medianMs());
        assertEquals(300.5, r.results().get(0).peakMb());
        assertTrue(Double.isNaN(r.results().get(1).peakMb()));
        assertEquals(Map.of("torch", "1.13.0", "opacus", "1.4.0", "wait", "PASSIVE"), r.versions());
        assertThrows(IllegalStateException.class, () -> TorchPeer.parse("no json here\n"));
        assertThrows(IllegalStateException.class, () -> TorchPeer.parse("{\"results\": [}\n"));
        assertThrows(IllegalStateException.class, () -> TorchPeer.parse("{\"model\": \"x\", \"results\": []}\n"));
    }

    @Test
    void everyRatioIsRelativeToOurNonprivate() {
        PeerComparison c = PeerComparison.merge(
                List.of(row("nonprivate", 10), row("auto", 15)),
                List.of(row("torch-nonprivate", 5), row("opacus", 30)));
        assertEquals(
                List.of("nonprivate", "auto", "peer:torch-nonprivate", "peer:opacus"),
                c.rows().stream().map(BenchResult::strategy).toList());
        assertEquals(
                List.of(1.0, 1.5, 0.5, 3.0),
                c.rows().stream().map(BenchResult::ratio).toList());
        assertEquals(2.0, c.nonprivateVsTorch(), 1e-12);
        assertEquals(0.5, c.autoVsOpacus(), 1e-12);

        PeerComparison bookkeeping = PeerComparison.merge(
                List.of(row("nonprivate", 10), row("bookkeeping", 60)), List.of(row("opacus", 30)));
        assertEquals(2.0, bookkeeping.autoVsOpacus(), 1e-12);
        assertTrue(Double.isNaN(bookkeeping.nonprivateVsTorch()));
        PeerComparison noBase = PeerComparison.merge(List.of(row("auto", 10)), List.of(row("torch-nonprivate", 5)));
        assertTrue(noBase.rows().stream().allMatch(r -> Double.isNaN(r.ratio())));
    }

    @Test
    void runsAFakePeerAndPassesTheEnvironment() throws Exception {
        StringBuilder progress = new StringBuilder();
        TorchPeer.Report r = new TorchPeer("/bin/sh", fakePeer(7))
                .run(
                        List.of("--model", "small-cnn"),
                        Map.of("OMP_WAIT_POLICY", "PASSIVE"),
                        line -> progress.append(line).append('\n'));
        assertEquals(7, r.parameters());
        assertEquals("PASSIVE", r.versions().get("wait"));
        assertEquals(
                "--model small-cnn --json",
                Files.readString(dir.resolve("args.txt")).strip());
        assertTrue(progress.toString().contains("warming up torch-nonprivate"), progress.toString());
    }

    @Test
    void aFailingPeerIsOneClearMessage() throws Exception {
        TorchPeer peer = new TorchPeer("/bin/sh", missingTorchPeer());
        IllegalStateException e =
                assertThrows(IllegalStateException.class, () -> peer.run(List.of(), Map.of(), line -> {}));
        assertTrue(e.getMessage().contains("exit 3"), e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install python3-torch"), e.getMessage());
        assertTrue(!e.getMessage().contains("torch_peer: error:"), e.getMessage());
        IllegalStateException noPython = assertThrows(
                IllegalStateException.class,
                () -> new TorchPeer(dir.resolve("no-such-python").toString(), missingTorchPeer())
                        .check(List.of(), Map.of()));
        assertTrue(noPython.getMessage().contains("--peer-python"), noPython.getMessage());
    }

    @Test
    void thePeerGetsOurThreadsAndWaitPolicy() {
        BenchCommand bench = new BenchCommand();
        bench.settings.put("omp_wait_policy", "passive");
        assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE"), new BenchPeer(bench, null).environment());
        bench.ourThreadInfo = "2 threads, 1 inter-op, OMP_WAIT_POLICY=ACTIVE";
        assertEquals(
                Map.of("OMP_WAIT_POLICY", "ACTIVE"),
                new BenchPeer(bench, null).environment(),
                "what our engine ran with wins");
        bench.ourThreadInfo = "2 threads, 1 inter-op, OMP_WAIT_POLICY=unset";
        Map<String, String> unset = new BenchPeer(bench, null).environment();
        assertTrue(
                unset.containsKey("OMP_WAIT_POLICY") && unset.get("OMP_WAIT_POLICY") == null,
                "unset is passed on as unset");
        assertEquals(3, BenchPeer.threads(Map.of("threads", "3")));
        assertTrue(BenchPeer.threads(Map.of()) > 0);
    }

    @Test
    void benchJsonHasOurRowsThenThePeersWithHeadlineRatios() throws Exception {
        long params = ModelZoo.build(ModelSpec.of("small-cnn"), Shape.parse("1x8x8"), 10)
                .parameterCount();
        Path peer = fakePeer(params);
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(
                    0,
                    Main.run(
                            "bench",
                            "--model",
                            "small-cnn",
                            "--input",
                            "1x8x8",
                            "--batch",
                            "4",
                            "--steps",
                            "1",
                            "--warmup",
                            "0",
                            "--strategies",
                            "nonprivate,auto",
                            "--peer",
                            "torch",
                            "--peer-python",
                            "/bin/sh",
                            "--peer-script",
                            peer.toString(),
                            "--json"));
        } finally {
            System.setOut(old);
        }
        String[] lines = buf.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertEquals(1, lines.length);
        JsonNode j = new ObjectMapper().readTree(lines[0]);
        JsonNode rows = j.get("results");
        assertEquals(4, rows.size());
        assertEquals("peer:torch-nonprivate", rows.get(2).get("strategy").asText());
        assertEquals("peer:opacus", rows.get(3).get("strategy").asText());
        double ours = rows.get(0).get("median_ms").asDouble();
        assertEquals(1.0, rows.get(0).get("ratio").asDouble());
        assertEquals(Math.round(500.0 / ours) / 100.0, rows.get(2).get("ratio").asDouble(), 0.011);
        assertEquals(
                Math.round(100 * ours / 5.0) / 100.0,
                j.get("headline").get("nonprivate_vs_torch").asDouble(),
                0.011);
        assertEquals(
                Math.round(100 * rows.get(1).get("median_ms").asDouble() / 30.0) / 100.0,
                j.get("headline").get("auto_vs_opacus").asDouble(),
                0.011);
        assertEquals("1.4.0", j.get("peer_versions").get("opacus").asText());
        assertEquals(
                "--model small-cnn --input 1x8x8 --stem imagenet --batch 4 --classes 10 --strategies torch-nonprivate,opacus"
                        + " --steps 1 --warmup 0 --block 1 --sigma 1.0 --clip 1.0 --threads "
                        + BenchPeer.threads(Map.of()) + " --json",
                Files.readString(dir.resolve("args.txt")).strip());
    }

    @Test
    void benchRefusesAPeerWithoutTorchBeforeItsOwnRunAndAModelThatDiffers() throws Exception {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertEquals(
                    2,
                    Main.run(
                            "bench",
                            "--model",
                            "small-cnn",
                            "--input",
                            "1x8x8",
                            "--batch",
                            "4",
                            "--steps",
                            "1",
                            "--warmup",
                            "0",
                            "--strategies",
                            "nonprivate",
                            "--peer",
                            "torch",
                            "--peer-python",
                            "/bin/sh",
                            "--peer-script",
                            missingTorchPeer().toString()));
            assertEquals(
                    2,
                    Main.run(
                            "bench",
                            "--model",
                            "small-cnn",
                            "--input",
                            "1x8x8",
                            "--batch",
                            "4",
                            "--steps",
                            "1",
                            "--warmup",
                            "0",
                            "--strategies",
                            "nonprivate",
                            "--peer",
                            "torch",
                            "--peer-python",
                            "/bin/sh",
                            "--peer-script",
                            fakePeer(12345).toString(),
                            "--json"));
            assertEquals(2, Main.run("bench", "--model", "small-cnn", "--input", "1x8x8", "--peer", "jax"));
        } finally {
            System.setErr(old);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        List<String> errors = text.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(3, errors.size(), text);
        assertTrue(
                errors.get(0).startsWith("error: peer no_torch.sh failed (exit 3): PyTorch cannot be imported"),
                errors.get(0));
        assertTrue(errors.get(0).contains("apt-get install python3-torch"), errors.get(0));
        assertTrue(
                text.indexOf("bench: warming up") < 0
                        || text.indexOf("bench: warming up") > text.indexOf(errors.get(0)),
                "the missing torch must stop the bench before its own run: " + text);
        assertTrue(
                errors.get(1).contains("12345 parameters") && errors.get(1).contains("the models differ"),
                errors.get(1));
        assertTrue(errors.get(2).contains("--peer must be torch"), errors.get(2));
    }
}
