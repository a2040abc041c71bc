package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.TurnRecord;
import dev.parley.store.jdbc.JdbcConversationStore;
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
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One turn ({@code send}) with an instant in-process model on an H2 file store, at two history lengths with the
 * same context budget, beside the raw-JDBC minimum of a turn on the same database: read the newest 20 messages,
 * insert two rows, update the totals, in one transaction.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar TurnBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(java.util.concurrent.TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class TurnBenchmark {
    /** Messages already in the conversation when the benchmark starts. */
    @Param({"10", "100000"})
    public int history;

    /**
     * H2's WRITE_DELAY for the database file, in milliseconds: 0 is what {@code h2File} sets (each commit is
     * written to the file before it returns, so a killed JVM loses no acknowledged turn); 500 is H2's default,
     * to measure what that costs a turn.
     */
    @Param({"0", "500"})
    public int h2WriteDelayMs;

    /** Ten stored tokens per message and a budget of 200 tokens: about 20 messages of context, as in the baseline. */
    private static final int MESSAGE_TOKENS = 10;
    private static final int CONTEXT_SIZE = 200 + 2;

    private Path dir;
    private ConversationEngine engine;
    private Conversation conversation;
    private Connection raw;
    private String rawConversation;
    private long rawSeq;
    private long turn;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("parley-bench");
        JdbcConversationStore store = JdbcConversationStore.h2File(dir.resolve("parley"));
        engine = ConversationEngine.builder()
                .store(store)
                .model("instant", request -> new ModelResponse("All right.", new Usage(200, 3)))
                .build();
        Caller caller = Caller.user("bench", "org").member("ws").build();
        conversation = engine.as(caller).create(NewConversation.inWorkspace("ws").build());
        fill(store, conversation.id(), history);

        // The baseline works on its own conversation of the same length, in the same database file.
        rawConversation = engine.as(caller).create(NewConversation.inWorkspace("ws").build()).id();
        fill(store, rawConversation, history);
        rawSeq = history;
        raw = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("parley").toAbsolutePath() + ";LOCK_TIMEOUT=10000", "sa", "");
        try (Statement set = raw.createStatement()) {
            // A database setting: it applies to the store's connections too.
            set.execute("SET WRITE_DELAY " + h2WriteDelayMs);
        }
        raw.setAutoCommit(false);
    }

    static void fill(JdbcConversationStore store, String conversationId, int messages) {
        Instant at = Instant.parse("2026-01-01T00:00:00Z");
        for (int i = 0; i < messages / 2; i++) {
            Message user = new Message("u" + i, conversationId, 0, Role.USER, "Question number " + i + " about the plan",
                    MESSAGE_TOKENS, null, null, null, MessageStatus.COMPLETE, at, null);
            Message reply = new Message("a" + i, conversationId, 0, Role.ASSISTANT, "Answer number " + i + " about the plan",
                    MESSAGE_TOKENS, "instant", null, null, MessageStatus.COMPLETE, at, new Usage(200, MESSAGE_TOKENS));
            store.commitTurn(new TurnRecord(conversationId, "u" + i, user, reply, new Usage(200, MESSAGE_TOKENS), true, at));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        raw.close();
        engine.close();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            });
        }
    }

    @Benchmark
    public Reply parleySend() {
        return conversation.send(Prompt.text("What about the plan?").contextSize(CONTEXT_SIZE).build());
    }

    @Benchmark
    public void rawJdbcTurn(Blackhole bh) throws SQLException {
        try (PreparedStatement read = raw.prepareStatement("SELECT seq, role, body, tokens FROM parley_message "
                + "WHERE conversation_id = ? ORDER BY conversation_id DESC, seq DESC LIMIT 20")) {
            read.setString(1, rawConversation);
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    bh.consume(rs.getLong(1));
                    bh.consume(rs.getString(2));
                    bh.consume(rs.getString(3));
                    bh.consume(rs.getInt(4));
                }
            }
        }
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        long n = ++turn;
        try (PreparedStatement insert = raw.prepareStatement("INSERT INTO parley_message (conversation_id, seq, id, "
                + "role, body, tokens, status, created_at, usage_in, usage_out) VALUES (?, ?, ?, ?, ?, ?, 'COMPLETE', ?, ?, ?)")) {
            addRow(insert, ++rawSeq, "q" + n, "USER", "What about the plan?", 5, now, null);
            addRow(insert, ++rawSeq, "r" + n, "ASSISTANT", "All right.", 3, now, 200L);
            insert.executeBatch();
        }
        try (PreparedStatement update = raw.prepareStatement("UPDATE parley_conversation SET tokens_in = tokens_in + ?, "
                + "tokens_out = tokens_out + ?, message_count = message_count + 2, updated_at = ? WHERE id = ?")) {
            update.setLong(1, 200);
            update.setLong(2, 3);
            update.setObject(3, now);
            update.setString(4, rawConversation);
            update.executeUpdate();
        }
        raw.commit();
    }

    private void addRow(PreparedStatement insert, long seq, String id, String role, String body, int tokens,
                        OffsetDateTime at, Long usageIn) throws SQLException {
        insert.setString(1, rawConversation);
        insert.setLong(2, seq);
        insert.setString(3, id);
        insert.setString(4, role);
        insert.setString(5, body);
        insert.setInt(6, tokens);
        insert.setObject(7, at);
        if (usageIn == null) {
            insert.setNull(8, java.sql.Types.BIGINT);
            insert.setNull(9, java.sql.Types.BIGINT);
        } else {
            insert.setLong(8, usageIn);
            insert.setLong(9, tokens);
        }
        insert.addBatch();
    }
}
