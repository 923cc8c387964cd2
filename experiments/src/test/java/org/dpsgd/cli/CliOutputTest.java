package org.dpsgd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Commands write through picocli's writers; the PrintStream bridge for the run API keeps every character. */
class CliOutputTest {
    @Test
    void aStreamOverAWriterDecodesCharactersSplitAcrossWrites() {
        StringWriter sink = new StringWriter();
        PrintStream s = CliOutput.stream(new PrintWriter(sink));
        String text = "ε = 2.997 at δ = 1e-5, σ ≥ 1.93 ✓ 𝜀\n";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) s.write(b); // one byte at a time: every multi-byte character arrives in pieces
        s.print("no newline yet");
        s.flush();
        assertEquals(text + "no newline yet", sink.toString());
    }

    @Test
    void aCommandsOutputGoesToTheWritersTheCallerSets() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        ByteArrayOutputStream jvmOut = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int code;
        try {
            System.setOut(new PrintStream(jvmOut, true, StandardCharsets.UTF_8));
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            code = Main.execute(
                    cl,
                    "privacy",
                    "epsilon",
                    "--sampling-rate",
                    "0.01",
                    "--noise-multiplier",
                    "1.1",
                    "--steps",
                    "1000",
                    "--delta",
                    "1e-5");
        } finally {
            System.setOut(old);
        }
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().startsWith("ε = "), out.toString());
        assertEquals("", jvmOut.toString(StandardCharsets.UTF_8), "nothing bypasses the writers");
    }
}
