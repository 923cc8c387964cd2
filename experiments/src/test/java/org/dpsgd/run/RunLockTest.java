package org.dpsgd.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.dpsgd.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunLockTest {
    @TempDir
    Path dir;

    @Test
    void aSecondLockInTheSameProcessIsRefusedAndReleasedOnClose() {
        try (RunLock first = RunLock.acquire(dir)) {
            assertTrue(RunLock.isHeld(dir));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> RunLock.acquire(dir));
            assertTrue(
                    e.getMessage()
                            .contains("in use by process "
                                    + ProcessHandle.current().pid()),
                    e.getMessage());
        }
        assertFalse(RunLock.isHeld(dir));
        try (RunLock again = RunLock.acquire(dir)) {
            assertTrue(RunLock.isHeld(dir));
        }
    }

    @Test
    void aResumeWhileAnotherProcessHoldsTheFolderIsRefusedWithItsPid() throws Exception {
        Path run = dir.resolve("run");
        TrainingRun.start(
                ConfigLoader.parse(TrainingRunTest.CONFIG, "test"),
                run,
                TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream()))
                        .withStopAfter(4));
        // Another JVM locks the folder the way RunLock does (fcntl lock on .lock), then waits.
        Path holder = dir.resolve("Holder.java");
        Files.writeString(holder, """
                import java.nio.channels.FileChannel;
                import java.nio.file.*;
                public class Holder {
                    public static void main(String[] a) throws Exception {
                        FileChannel ch = FileChannel.open(Path.of(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                        if (ch.tryLock() == null) throw new IllegalStateException("not locked");
                        ch.truncate(0);
                        ch.write(java.nio.ByteBuffer.wrap((ProcessHandle.current().pid() + "\\n").getBytes()));
                        System.out.println("locked");
                        System.out.flush();
                        Thread.sleep(60_000);
                    }
                }
                """);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(
                        java, holder.toString(), run.resolve(RunLock.FILE).toString())
                .redirectErrorStream(true)
                .start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("locked", out.readLine());
            assertTrue(RunLock.isHeld(run));
            IllegalStateException e = assertThrows(
                    IllegalStateException.class,
                    () -> TrainingRun.resume(
                            run, TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream()))));
            assertTrue(e.getMessage().contains("in use by process " + p.pid()), e.getMessage());
            assertEquals("running", RunDirectory.readRunInfo(run).get("status"), "the refused resume wrote nothing");
        } finally {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        // The holder died (SIGKILL): the OS released its lock, and the run resumes.
        assertFalse(RunLock.isHeld(run));
        TrainingRun.Result r =
                TrainingRun.resume(run, TrainingRun.Options.quiet(new PrintStream(PrintStream.nullOutputStream())));
        assertEquals("finished", r.status());
    }

    @Test
    void anUnwritableFolderIsAClearError() throws IOException {
        Path file = dir.resolve("not-a-folder");
        Files.writeString(file, "x");
        assertThrows(RuntimeException.class, () -> RunLock.acquire(file));
        assertFalse(RunLock.isHeld(file));
    }
}
