package dev.parley.bench.sidebyside;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A durable chat turn in each of the memories Java teams use, in one run: the raw-JDBC minimum (the baseline),
 * Parley, LangChain4j's {@code MessageWindowChatMemory} over a JDBC store as its documentation writes one,
 * Spring AI's {@code MessageWindowChatMemory} over {@code JdbcChatMemoryRepository}, and Spring AI Session's
 * append-only {@code JdbcSessionRepository} through its {@code SessionMemoryAdvisor} around a {@code ChatClient}
 * call. Each runs on its own H2 file with the settings Parley's H2 file store uses ({@code WRITE_DELAY=0}), over
 * many conversations that already hold {@code history} messages of about 40 words, turns going round them; the
 * model answers at once and sees the newest 20 messages (Spring AI Session: the newest 20 events and the new
 * prompt).
 *
 * <p>Each trial checks at its end that every turn's two messages were stored, and appends to {@link #REPORT}
 * ({@code side-by-side-report.txt} in the working directory unless {@code -Dparley.sideBySide.report} names
 * another file) the statements per turn, as H2 counted them, and the bytes the compacted database file takes
 * per stored message.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar SideBySideBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class SideBySideBenchmark {
    /** Messages already in each conversation when the trial starts. */
    @Param({"10", "1000", "10000", "100000"})
    public int history;

    /** Which memory runs the turns. */
    @Param({"raw", "parley", "langchain4j", "springai", "springaisession"})
    public String memory;

    /** Where each trial appends its statement counts and storage: {@code -Dparley.sideBySide.report=...}. */
    static final Path REPORT = Path.of(System.getProperty("parley.sideBySide.report", "side-by-side-report.txt"));

    private Path dir;
    private Corpus corpus;
    private ChatTurns turns;
    private int conversations;
    private long filled;
    private long turnCount;

    /** Many conversations, as a service has; fewer at long histories so that the set-up stays within minutes. */
    static int conversationsFor(int history) {
        return Math.max(2, Math.min(100, 200_000 / Math.max(1, history)));
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("parley-side-by-side");
        corpus = new Corpus();
        turns = switch (memory) {
            case "raw" -> new RawJdbcTurns(dir, corpus);
            case "parley" -> new ParleyTurns(dir, corpus);
            case "langchain4j" -> new LangChain4jTurns(dir, corpus);
            case "springai" -> new SpringAiTurns(dir, corpus);
            case "springaisession" -> new SpringAiSessionTurns(dir, corpus);
            default -> throw new IllegalArgumentException("unknown memory " + memory);
        };
        conversations = conversationsFor(history);
        turns.fill(conversations, history);
        filled = (long) conversations * (history - history % 2);
        if (turns.storedMessages() < filled) {
            throw new IllegalStateException(memory + " stored " + turns.storedMessages() + " of " + filled + " messages");
        }
        H2Files.countStatements(turns.file());
    }

    @Benchmark
    public Object turn() throws Exception {
        long n = turnCount++;
        // Prompt and reply from the pool, offset so a conversation's new messages differ from its history.
        return turns.turn((int) (n % conversations), corpus.text(2 * n + 1_001), corpus.text(2 * n + 1_002));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        java.util.Map<String, Long> executed = H2Files.statementsExecuted(turns.file());
        long statements = executed.values().stream().mapToLong(Long::longValue).sum();
        long stored = turns.storedMessages();
        long expected = filled + 2 * turnCount;
        turns.close();
        long bytes = H2Files.compactedBytes(turns.file());
        StringBuilder report = new StringBuilder();
        report.append(String.format("memory=%s history=%d conversations=%d turns=%d statements per turn %.2f "
                        + "stored=%d expected=%d compacted file %d bytes (%.0f bytes per message; messages average "
                        + "%d chars, %d tokens)%n",
                memory, history, conversations, turnCount, (double) statements / turnCount, stored, expected, bytes,
                (double) bytes / stored, corpus.meanChars(), corpus.meanTokens()));
        executed.forEach((sql, count) -> report.append(String.format("  %6.2f per turn: %s%n",
                (double) count / turnCount, sql.length() > 110 ? sql.substring(0, 110) + "..." : sql)));
        // Beside JMH's figures, in a file of its own: one block per trial, appended.
        Files.writeString(REPORT, report, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        deleteDir();
        if (stored != expected) {
            throw new IllegalStateException(memory + " stored " + stored + " messages, expected " + expected);
        }
    }

    private void deleteDir() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
