package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15 §7: a DJL run of an IPU setting shows it in the compare report's config diff as ignored, not as used. */
class CompareIgnoredSettingsTest {
    @TempDir
    Path dir;

    @Test
    void theConfigDiffMarksASettingTheBackendIgnored() throws Exception {
        Path cfg = dir.resolve("tiny.yaml");
        Files.writeString(cfg, CommandsTest.TINY);
        Path fp16 = dir.resolve("fp16");
        Path plain = dir.resolve("plain");
        Object[] r = CommandsTest.cli(
                "train",
                "--config",
                cfg.toString(),
                "--set",
                "backend.settings.stochastic_rounding=true",
                "--out",
                fp16.toString());
        assertEquals(0, r[0], (String) r[2]);
        r = CommandsTest.cli("train", "--config", cfg.toString(), "--out", plain.toString());
        assertEquals(0, r[0], (String) r[2]);
        Path report = dir.resolve("report.html");
        r = CommandsTest.cli("compare", fp16.toString(), plain.toString(), "--out", report.toString());
        assertEquals(0, r[0], (String) r[2]);
        String html = Files.readString(report, StandardCharsets.UTF_8);
        assertTrue(
                html.contains(
                        "<tr><td class=\"k\">backend.settings.stochastic_rounding</td><td class=\"ignored\" title=\"the djl"
                                + " backend did not use this setting\"><s>true</s> (ignored by djl)</td><td>—</td></tr>"),
                html);
        assertTrue(html.contains("Struck-through settings were ignored"), html);
    }
}
