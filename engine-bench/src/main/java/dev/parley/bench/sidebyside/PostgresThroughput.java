package dev.parley.bench.sidebyside;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Usage;
import dev.parley.api.values.ModelResponse;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns per second on one PostgreSQL server: Parley with two engines in two JVMs, eight threads each, against the
 * raw-JDBC minimum of {@link RawJdbcTurns} (the same SQL, on PostgreSQL) run the same way: two JVMs, eight threads,
 * a connection per thread. Each JVM has 100 conversations of 20 messages (each thread keeps to its own share of
 * them), ~40-word messages from {@link Corpus}, a history budget of about 20 messages and an instant model.
 * Trials alternate raw, Parley, raw, Parley; each warms up, then counts turns for the measured seconds; the
 * report gives turns per second summed over both JVMs, the median and p99 latency per turn, and Parley's turns
 * per second as a multiple of the minimum's in the same run. Each trial checks at its end that every turn's two
 * messages are in the database.
 *
 * <p>Run (PostgreSQL URL from {@code PARLEY_TEST_POSTGRES_URL}):
 * {@code java -cp engine-bench/target/benchmarks.jar dev.parley.bench.sidebyside.PostgresThroughput [seconds]
 * [warm-up seconds]}; appends to {@code postgres-throughput-report.txt}.
 */
public final class PostgresThroughput {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PostgresThroughput.class);
    private static final int JVMS = 2;
    private static final int THREADS = 8;
    private static final int CONVERSATIONS = 100;
    private static final int HISTORY = 20;

    private PostgresThroughput() {
    }

    /**
     * Without arguments past the durations, runs the trials; with {@code child <memory> <seconds> <warm-up>}, is
     * one of a trial's JVMs.
     */
    public static void main(String[] args) throws Exception {
        String url = System.getenv("PARLEY_TEST_POSTGRES_URL");
        if (url == null) {
            throw new IllegalStateException("set PARLEY_TEST_POSTGRES_URL to a PostgreSQL database");
        }
        if (args.length > 0 && args[0].equals("child")) {
            child(url, args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), Path.of(args[4]));
            return;
        }
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        int warmUp = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        createRawTables(url);
        double[] perMemory = new double[2];
        StringBuilder report = new StringBuilder();
        for (String memory : new String[] {"raw", "parley", "raw", "parley"}) {
            List<Process> children = new ArrayList<>();
            List<Path> results = new ArrayList<>();
            for (int j = 0; j < JVMS; j++) {
                Path result = Files.createTempFile("parley-throughput", ".txt");
                results.add(result);
                children.add(new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx1g", "-cp", System.getProperty("java.class.path"), PostgresThroughput.class.getName(),
                        "child", memory, Integer.toString(seconds), Integer.toString(warmUp), result.toString())
                        .redirectOutput(ProcessBuilder.Redirect.INHERIT)
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start());
            }
            long turns = 0;
            List<Double> p50 = new ArrayList<>();
            List<Double> p99 = new ArrayList<>();
            for (int j = 0; j < JVMS; j++) {
                if (children.get(j).waitFor() != 0) {
                    throw new IllegalStateException("a " + memory + " JVM failed");
                }
                String result = Files.readString(results.get(j), StandardCharsets.UTF_8).trim();
                Files.delete(results.get(j));
                String[] f = result.split(" ");
                turns += Long.parseLong(f[0]);
                p50.add(Double.parseDouble(f[1]));
                p99.add(Double.parseDouble(f[2]));
            }
            double perSecond = (double) turns / seconds;
            perMemory[memory.equals("raw") ? 0 : 1] += perSecond;
            report.append(String.format(Locale.ROOT, "%s: %d JVMs x %d threads, %,.0f turns/s, median %s ms, p99 %s ms "
                    + "(per JVM)%n", memory, JVMS, THREADS, perSecond, p50, p99));
        }
        report.append(String.format(Locale.ROOT, "Parley / minimum, turns per second over both trials: %.2f%n",
                perMemory[1] / perMemory[0]));
        log.info("{}", report);
        Files.writeString(Path.of("postgres-throughput-report.txt"), report, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void createRawTables(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS chat_message");
            s.execute("DROP TABLE IF EXISTS chat_conversation");
            s.execute("CREATE TABLE chat_conversation (id VARCHAR(64) PRIMARY KEY, tokens_in BIGINT NOT NULL, "
                    + "tokens_out BIGINT NOT NULL, message_count BIGINT NOT NULL, "
                    + "updated_at TIMESTAMP WITH TIME ZONE NOT NULL)");
            s.execute("CREATE TABLE chat_message (conversation_id VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, "
                    + "id VARCHAR(64) NOT NULL, role VARCHAR(16) NOT NULL, body TEXT NOT NULL, tokens INT NOT NULL, "
                    + "created_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (conversation_id, seq))");
        }
    }

    /** One turn of one thread. */
    private interface Turn {
        void run(int conversation, String prompt, String reply) throws Exception;
    }

    /** One trial's JVM: writes "turns median-ms p99-ms" of its measured turns to {@code result}. */
    private static void child(String url, String memory, int seconds, int warmUp, Path result) throws Exception {
        Corpus corpus = new Corpus();
        String prefix = UUID.randomUUID().toString().substring(0, 8);
        List<AutoCloseable> resources = new ArrayList<>();
        Turn[] turns = new Turn[THREADS];
        long[] storedBefore = new long[1];
        String countSql;
        if (memory.equals("raw")) {
            countSql = "SELECT COUNT(*) FROM chat_message WHERE conversation_id LIKE '" + prefix + "-%'";
            for (int t = 0; t < THREADS; t++) {
                RawPostgres raw = new RawPostgres(url, prefix, corpus);
                raw.fill(t);
                resources.add(raw);
                turns[t] = raw::turn;
            }
        } else {
            ParleyPostgres parley = new ParleyPostgres(url, corpus);
            parley.fill();
            resources.add(parley);
            countSql = "SELECT COUNT(*) FROM parley_message WHERE conversation_id IN ("
                    + String.join(",", parley.ids.stream().map(id -> "'" + id + "'").toList()) + ")";
            for (int t = 0; t < THREADS; t++) {
                turns[t] = parley::turn;
            }
        }
        storedBefore[0] = count(url, countSql);
        AtomicBoolean measuring = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        long[][] latencies = new long[THREADS][];
        int[] measured = new int[THREADS];
        long[] all = new long[THREADS];
        Throwable[] failure = new Throwable[1];
        CountDownLatch done = new CountDownLatch(THREADS);
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            latencies[t] = new long[1 << 20];
            Thread worker = new Thread(() -> {
                try {
                    for (long n = 0; !stop.get(); n++) {
                        int conversation = thread + (int) (n % (CONVERSATIONS / THREADS)) * THREADS;
                        long start = System.nanoTime();
                        turns[thread].run(conversation, corpus.text(n * 2 + thread), corpus.text(n * 2 + thread + 1));
                        long took = System.nanoTime() - start;
                        all[thread]++;
                        if (measuring.get() && measured[thread] < latencies[thread].length) {
                            latencies[thread][measured[thread]++] = took;
                        }
                    }
                } catch (Throwable e) {
                    failure[0] = e;
                    stop.set(true);
                } finally {
                    done.countDown();
                }
            });
            worker.start();
        }
        Thread.sleep(warmUp * 1000L);
        measuring.set(true);
        Thread.sleep(seconds * 1000L);
        measuring.set(false);
        stop.set(true);
        done.await();
        if (failure[0] != null) {
            throw new IllegalStateException("a turn failed", failure[0]);
        }
        long turnsDone = Arrays.stream(all).sum();
        long stored = count(url, countSql) - storedBefore[0];
        if (stored != 2 * turnsDone) {
            throw new IllegalStateException(stored + " messages stored for " + turnsDone + " turns");
        }
        long[] sample = new long[Arrays.stream(measured).sum()];
        int k = 0;
        for (int t = 0; t < THREADS; t++) {
            System.arraycopy(latencies[t], 0, sample, k, measured[t]);
            k += measured[t];
        }
        Arrays.sort(sample);
        for (AutoCloseable r : resources) {
            r.close();
        }
        Files.writeString(result, String.format(Locale.ROOT, "%d %.2f %.2f%n", sample.length, sample[sample.length / 2] / 1e6,
                sample[(int) (sample.length * 0.99)] / 1e6), StandardCharsets.UTF_8);
    }

    private static long count(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** {@link RawJdbcTurns}'s statements on PostgreSQL: one connection per thread, prepared once. */
    private static final class RawPostgres implements AutoCloseable {
        private final Connection connection;
        private final PreparedStatement read;
        private final PreparedStatement insert;
        private final PreparedStatement totals;
        private final String prefix;
        private final Corpus corpus;
        private final long[] sequences = new long[CONVERSATIONS];

        RawPostgres(String url, String prefix, Corpus corpus) throws SQLException {
            this.prefix = prefix;
            this.corpus = corpus;
            connection = DriverManager.getConnection(url);
            connection.setAutoCommit(false);
            read = connection.prepareStatement("SELECT seq, role, body, tokens FROM chat_message "
                    + "WHERE conversation_id = ? ORDER BY seq DESC LIMIT " + ChatTurns.WINDOW);
            insert = connection.prepareStatement("INSERT INTO chat_message (conversation_id, seq, id, role, body, "
                    + "tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
            totals = connection.prepareStatement("UPDATE chat_conversation SET tokens_in = tokens_in + ?, "
                    + "tokens_out = tokens_out + ?, message_count = message_count + 2, updated_at = ? WHERE id = ?");
        }

        /** This thread's share of the conversations, with {@link #HISTORY} messages each. */
        void fill(int thread) throws SQLException {
            OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC);
            try (PreparedStatement create = connection.prepareStatement(
                    "INSERT INTO chat_conversation VALUES (?, 0, 0, ?, ?)")) {
                for (int c = thread; c < CONVERSATIONS; c += THREADS) {
                    create.setString(1, prefix + "-" + c);
                    create.setLong(2, HISTORY);
                    create.setObject(3, at);
                    create.executeUpdate();
                    for (int m = 0; m < HISTORY; m++) {
                        add(prefix + "-" + c, m + 1, "m" + m, m % 2 == 0 ? "USER" : "ASSISTANT", corpus.text(m),
                                corpus.tokens(m), at);
                    }
                    insert.executeBatch();
                    sequences[c] = HISTORY;
                }
            }
            connection.commit();
        }

        private void add(String conversation, long seq, String id, String role, String body, int tokens,
                         OffsetDateTime at) throws SQLException {
            insert.setString(1, conversation);
            insert.setLong(2, seq);
            insert.setString(3, id);
            insert.setString(4, role);
            insert.setString(5, body);
            insert.setInt(6, tokens);
            insert.setObject(7, at);
            insert.addBatch();
        }

        void turn(int conversation, String prompt, String reply) throws SQLException {
            String id = prefix + "-" + conversation;
            List<String> window = new ArrayList<>(ChatTurns.WINDOW);
            int windowTokens = 0;
            read.setString(1, id);
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    window.add(rs.getString(3));
                    windowTokens += rs.getInt(4);
                }
            }
            if (window.size() < ChatTurns.WINDOW) {
                throw new IllegalStateException("read " + window.size() + " messages of history");
            }
            OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
            add(id, ++sequences[conversation], "q" + sequences[conversation], "USER", prompt, 50, now);
            add(id, ++sequences[conversation], "r" + sequences[conversation], "ASSISTANT", reply, 50, now);
            insert.executeBatch();
            totals.setLong(1, windowTokens);
            totals.setLong(2, 50);
            totals.setObject(3, now);
            totals.setString(4, id);
            totals.executeUpdate();
            connection.commit();
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    /** Parley as a host runs it on PostgreSQL: one engine per JVM, shared by the threads. */
    private static final class ParleyPostgres implements AutoCloseable {
        private final ConversationEngine engine;
        private final Caller caller = Caller.user("bench", "org").member("ws").build();
        private final List<Conversation> conversations = new ArrayList<>();
        private final List<String> ids = new ArrayList<>();
        private final int contextSize;
        private final ThreadLocal<String> nextReply = ThreadLocal.withInitial(() -> "");

        ParleyPostgres(String url, Corpus corpus) {
            contextSize = ChatTurns.WINDOW * corpus.meanTokens();
            engine = ConversationEngine.builder()
                    .store(JdbcConversationStore.builder().jdbcUrl(url, null, null).poolSize(THREADS).build())
                    .model("instant", request -> new ModelResponse(nextReply.get(), new Usage(contextSize, 50)))
                    .build();
        }

        void fill() {
            Corpus corpus = new Corpus();
            for (int c = 0; c < CONVERSATIONS; c++) {
                Conversation conversation = engine.as(caller).create(NewConversation.inWorkspace("ws").build());
                for (int m = 0; m < HISTORY; m += 2) {
                    nextReply.set(corpus.text(m + 1));
                    conversation.send(Prompt.text(corpus.text(m)).contextSize(contextSize).build());
                }
                conversations.add(conversation);
                ids.add(conversation.id());
            }
        }

        void turn(int conversation, String prompt, String reply) {
            nextReply.set(reply);
            conversations.get(conversation).send(Prompt.text(prompt).contextSize(contextSize).build());
        }

        @Override
        public void close() {
            engine.close();
        }
    }
}
