package dev.parley.samples.chat;

import dev.parley.samples.ParleySamples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code chat} in a child JVM on this test's class path, driven through its standard input as a script would drive
 * it: lines written to its input, its standard output and error collected as they come (standard output's bytes as
 * well, as printed).
 */
final class ChatProcess implements AutoCloseable {
    /** How long any one expected output may take: generous, for a loaded machine. */
    static final Duration DEADLINE = Duration.ofSeconds(60);
    /** Where {@code script} is, for {@link #startInPseudoTerminal}. */
    static final Path SCRIPT = Path.of("/usr/bin/script");

    private final Process process;
    private final OutputStream input;
    private final StringBuffer out = new StringBuffer();
    private final StringBuffer err = new StringBuffer();
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final Thread outCollector;
    private final Thread errCollector;

    private ChatProcess(Process process) {
        this.process = process;
        this.input = process.getOutputStream();
        this.outCollector = collect(process.getInputStream(), out, outBytes, "chat-stdout");
        this.errCollector = collect(process.getErrorStream(), err, new ByteArrayOutputStream(), "chat-stderr");
    }

    /** Starts {@code chat --data DATA} with {@code more} arguments, without the environment's model or store. */
    static ChatProcess start(Path data, String... more) throws IOException {
        return startOn(Path.of(System.getProperty("java.home")), data, more);
    }

    /** As {@link #start}, on the JDK or JRE in {@code javaHome} rather than the one running the test. */
    static ChatProcess startOn(Path javaHome, Path data, String... more) throws IOException {
        return new ChatProcess(builder(javaHome, data, more).start());
    }

    /**
     * As {@link #startOn}, with both standard streams of the chat a pseudo terminal that {@code script} (util-linux)
     * relays this side's pipes to, and {@code TERM=xterm}, as a person's terminal is.
     */
    static ChatProcess startInPseudoTerminal(Path javaHome, Path data) throws IOException {
        ProcessBuilder chat = builder(javaHome, data);
        StringBuilder line = new StringBuilder();
        for (String arg : chat.command()) {
            line.append(line.length() == 0 ? "" : " ").append('\'').append(arg.replace("'", "'\\''")).append('\'');
        }
        ProcessBuilder builder = new ProcessBuilder(SCRIPT.toString(), "-qec", line.toString(), "/dev/null");
        builder.environment().clear();
        builder.environment().putAll(chat.environment());
        builder.environment().put("TERM", "xterm");
        return new ChatProcess(builder.start());
    }

    private static ProcessBuilder builder(Path javaHome, Path data, String... more) {
        List<String> command = new ArrayList<>(List.of(
                javaHome.resolve("bin").resolve("java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                ParleySamples.class.getName(), "chat", "--data", data.toString()));
        command.addAll(List.of(more));
        ProcessBuilder builder = new ProcessBuilder(command);
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(key -> key.startsWith("OPENAI_") || key.startsWith("PARLEY_"));
        return builder;
    }

    /** Collects {@code in} into {@code bytes}, and into {@code into} as UTF-8 text, up to its last whole character. */
    private static Thread collect(InputStream in, StringBuffer into, ByteArrayOutputStream bytes, String name) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[4096];
            int decoded = 0;
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    byte[] all;
                    synchronized (bytes) {
                        bytes.write(buffer, 0, n);
                        all = bytes.toByteArray();
                    }
                    int end = wholeCharacters(all);
                    into.append(new String(all, decoded, end - decoded, StandardCharsets.UTF_8));
                    decoded = end;
                }
            } catch (IOException e) {
                // the process ended
            }
        }, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The length of the longest prefix of UTF-8 {@code bytes} that does not end inside a character. */
    private static int wholeCharacters(byte[] bytes) {
        int end = bytes.length;
        int back = 0;
        while (back < 3 && end - back > 0 && (bytes[end - back - 1] & 0xC0) == 0x80) {
            back++;
        }
        if (end - back > 0) {
            int lead = bytes[end - back - 1] & 0xFF;
            int length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (length > back + 1) {
                return end - back - 1;
            }
        }
        return end;
    }

    /** Writes {@code line} to the chat's input. */
    void send(String line) {
        try {
            input.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            input.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("the chat took no more input:\n" + transcript(), e);
        }
    }

    /**
     * Waits until the output from {@code from} on contains {@code text}.
     *
     * @return the index just past it
     */
    int await(String text, int from) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            int at = out.indexOf(text, from);
            if (at >= 0) {
                return at + text.length();
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                outCollector.join(1000); // the rest of what it printed, once it exited
                throw new AssertionError("no \"" + text + "\" in the chat's output after " + from
                        + (process.isAlive() ? " within " + DEADLINE : "; it exited with " + process.exitValue())
                        + ":\n" + transcript());
            }
            Thread.sleep(20);
        }
    }

    /** Waits until the output from {@code from} on matches {@code pattern}. */
    Matcher awaitMatch(Pattern pattern, int from) throws InterruptedException {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
            Matcher m = pattern.matcher(out.substring(from));
            if (m.find()) {
                return m;
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("no match of " + pattern + " in the chat's output:\n" + transcript());
            }
            Thread.sleep(20);
        }
    }

    /** Sends SIGINT to the chat, as Ctrl-C or {@code kill -INT} does. */
    void interrupt() throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -INT failed");
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** Ends the chat's input (Ctrl-D) and waits for its exit code. */
    int closeInputAndAwaitExit() throws IOException, InterruptedException {
        input.close();
        return awaitExit();
    }

    /** Waits for the chat's exit code. */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
            throw new AssertionError("the chat did not exit within " + DEADLINE + ":\n" + transcript());
        }
        outCollector.join(DEADLINE.toMillis());
        errCollector.join(DEADLINE.toMillis());
        return process.exitValue();
    }

    /** What it printed on standard output so far. */
    String output() {
        return out.toString();
    }

    /** The bytes it printed on standard output so far. */
    byte[] outputBytes() {
        synchronized (outBytes) {
            return outBytes.toByteArray();
        }
    }

    /** What it printed on standard error so far. */
    String errors() {
        return err.toString();
    }

    private String transcript() {
        return "--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
    }

    /** Kills the process if a test left it running. */
    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        }
    }
}
