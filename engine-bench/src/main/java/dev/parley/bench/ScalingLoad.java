package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.credits.ModelPrice;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * What one PostgreSQL sustains (docs/SCALING.md). Two measurements, each appending its report to
 * {@code scaling-report.txt}:
 *
 * <ul>
 *   <li>{@code turns [seconds] [threads] [ids]}: threads send turns (with a client message id each, with
 *       {@code ids}, as an idempotent API sends them; without one otherwise), each in a conversation of its own (an instant
 *       in-process model, a price and no credit account, as {@link HotAccountLoad}'s "none" trial), warmed up for a
 *       third of the time, then timed. Reports turns per second, the CPU seconds the engine's JVM and the PostgreSQL
 *       server (the postmaster in {@code $PARLEY_PG_DIR} and its processes, from {@code /proc}) spent per turn, and
 *       per turn the rows each table gained and changed ({@code pg_stat_user_tables}), the bytes it grew by
 *       ({@code pg_total_relation_size}) and the WAL written. The conversations are made by one engine, which is
 *       closed first, so that the counts are of turns alone; the sending engine is closed before the last counts
 *       are read, so that its server processes have reported theirs.</li>
 *   <li>{@code bulk [conversations] [turnsEach]}: the rows that many turns leave, inserted with SQL (the store's
 *       columns, filled as its turns fill them), in the order concurrent conversations make them (turn by turn,
 *       conversation by conversation), then each table's and index's size, and per million messages.</li>
 * </ul>
 *
 * <p>Run (PostgreSQL URL from {@code PARLEY_TEST_POSTGRES_URL}, as the tests take it):
 * {@code java -cp engine-bench/target/benchmarks.jar dev.parley.bench.ScalingLoad turns 60 32}
 */
public final class ScalingLoad {
    /** The store's tables a turn writes or may write. */
    private static final List<String> TABLES = List.of("parley_conversation", "parley_message", "parley_turn",
            "parley_event", "parley_stream_lock", "parley_violation", "parley_usage_day", "parley_credit_hold",
            "parley_credit_ledger", "parley_credit_account", "parley_rate_counter");
    private static final Path REPORT = Path.of("scaling-report.txt");

    private ScalingLoad() {
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("PARLEY_TEST_POSTGRES_URL");
        if (url == null) {
            throw new IllegalStateException("set PARLEY_TEST_POSTGRES_URL to a PostgreSQL database");
        }
        String mode = args.length > 0 ? args[0] : "turns";
        if (mode.equals("turns")) {
            turns(url, args.length > 1 ? Integer.parseInt(args[1]) : 60, args.length > 2 ? Integer.parseInt(args[2]) : 32,
                    args.length > 3 && args[3].equals("ids"));
        } else if (mode.equals("bulk")) {
            bulk(url, args.length > 1 ? Integer.parseInt(args[1]) : 50_000, args.length > 2 ? Integer.parseInt(args[2]) : 10);
        } else {
            throw new IllegalArgumentException("mode is turns or bulk, was " + mode);
        }
    }

    private static void turns(String url, int seconds, int threads, boolean clientIds) throws Exception {
        String org = "org-" + UUID.randomUUID();
        List<String> ids = new ArrayList<>();
        List<Caller> callers = new ArrayList<>();
        try (ConversationEngine engine = engine(url)) {
            for (int i = 0; i < threads; i++) {
                Caller caller = Caller.user("u" + i, org).member("ws").build();
                callers.add(caller);
                ids.add(engine.as(caller).create(NewConversation.inWorkspace("ws").build()).id());
            }
        }
        Map<String, long[]> before = tableCounts(url);
        long walBefore = wal(url);
        long warmup = TimeUnit.SECONDS.toNanos(Math.max(1, seconds / 3));
        long timed = TimeUnit.SECONDS.toNanos(seconds);
        long[] warm = new long[threads];
        long[] done = new long[threads];
        double[] window = new double[3];
        try (ConversationEngine engine = engine(url)) {
            List<Conversation> conversations = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                conversations.add(engine.as(callers.get(i)).get(ids.get(i)));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            long t0 = System.nanoTime();
            long warmEnd = t0 + warmup;
            long end = warmEnd + timed;
            List<Future<?>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int n = i;
                Conversation c = conversations.get(i);
                results.add(pool.submit(() -> {
                    start.await();
                    while (System.nanoTime() < warmEnd) {
                        c.send(prompt(clientIds));
                        warm[n]++;
                    }
                    while (System.nanoTime() < end) {
                        c.send(prompt(clientIds));
                        done[n]++;
                    }
                    return null;
                }));
            }
            start.countDown();
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(warmEnd - System.nanoTime()));
            window[0] = jvmCpu();
            window[1] = serverCpu();
            long w0 = System.nanoTime();
            for (Future<?> f : results) {
                f.get();
            }
            window[2] = (System.nanoTime() - w0) / 1e9;
            double jvm = jvmCpu() - window[0];
            double server = serverCpu() - window[1];
            pool.shutdown();
            long timedTurns = java.util.Arrays.stream(done).sum();
            StringBuilder out = new StringBuilder();
            out.append(String.format("ScalingLoad turns threads=%d " + (clientIds ? "client message ids" : "no message ids")
                            + ": %d turns in %.1f s = %.0f turns/s; CPU per turn: "
                            + "engine JVM %.0f us, PostgreSQL %.0f us; turns per CPU-second: engine %.0f, PostgreSQL %.0f, "
                            + "both %.0f%n", threads, timedTurns, window[2], timedTurns / window[2],
                    jvm / timedTurns * 1e6, server / timedTurns * 1e6, timedTurns / jvm, timedTurns / server,
                    timedTurns / (jvm + server)));
            append(out.toString());
        }
        long turns = java.util.Arrays.stream(warm).sum() + java.util.Arrays.stream(done).sum();
        Thread.sleep(1000);
        Map<String, long[]> after = tableCounts(url);
        long walBytes = wal(url) - walBefore;
        StringBuilder out = new StringBuilder(String.format("  per turn, over all %d turns of the sending engine "
                + "(warm-up included): WAL %.0f bytes%n", turns, (double) walBytes / turns));
        out.append(String.format("  %-22s %10s %10s %10s %10s %12s%n", "table", "ins/turn", "upd/turn", "hot/turn",
                "del/turn", "bytes/turn"));
        long bytes = 0;
        for (String table : TABLES) {
            long[] b = before.get(table);
            long[] a = after.get(table);
            long grown = a[4] - b[4];
            bytes += grown;
            out.append(String.format("  %-22s %10.3f %10.3f %10.3f %10.3f %12.0f%n", table, (a[0] - b[0]) / (double) turns,
                    (a[1] - b[1]) / (double) turns, (a[2] - b[2]) / (double) turns, (a[3] - b[3]) / (double) turns,
                    grown / (double) turns));
        }
        out.append(String.format("  %-22s %56.0f%n", "all", bytes / (double) turns));
        append(out.toString());
        append(indexReport(url, "  indexes after the run", 0));
    }

    /** The load's prompt; with a client message id (idempotent: claimed, then completed), or without one. */
    private static Prompt prompt(boolean ids) {
        Prompt.Builder p = Prompt.text(GovernanceBenchmark.PROMPT);
        return (ids ? p.id(UUID.randomUUID().toString()) : p).build();
    }

    private static ConversationEngine engine(String url) {
        return ConversationEngine.builder()
                .store(JdbcConversationStore.of(url, null, null))
                .model("instant", new GovernanceBenchmark.InstantModel())
                .price("instant", ModelPrice.perThousand("0.15", "0.60")).build();
    }

    /** Per table: rows inserted, updated, HOT-updated, deleted, and its total size in bytes. */
    private static Map<String, long[]> tableCounts(String url) throws SQLException {
        Map<String, long[]> counts = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String table : TABLES) {
                try (ResultSet rs = s.executeQuery("SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del, "
                        + "pg_total_relation_size(relid) FROM pg_stat_user_tables WHERE relname = '" + table + "'")) {
                    rs.next();
                    counts.put(table, new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4),
                            rs.getLong(5)});
                }
            }
        }
        return counts;
    }

    private static long wal(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** This JVM's CPU time, in seconds. */
    private static double jvmCpu() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    /**
     * The PostgreSQL server's CPU time, in seconds: its postmaster's (with what its ended processes used) and its
     * running processes', from {@code /proc} in clock ticks of 100 Hz.
     */
    private static double serverCpu() throws IOException {
        String dir = System.getenv("PARLEY_PG_DIR");
        if (dir == null) {
            return Double.NaN;
        }
        long postmaster = Long.parseLong(Files.readAllLines(Path.of(dir, "data", "postmaster.pid")).get(0).trim());
        long ticks = 0;
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : procs) {
                String[] f;
                try {
                    String stat = Files.readString(p.resolve("stat"));
                    f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                } catch (IOException gone) {
                    continue;
                }
                long pid = Long.parseLong(p.getFileName().toString());
                long ppid = Long.parseLong(f[1]);
                if (pid == postmaster) {
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
                } else if (ppid == postmaster) {
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            }
        }
        return ticks / 100.0;
    }

    private static void bulk(String url, int conversations, int turnsEach) throws Exception {
        // The schema as the store makes it, on an emptied database.
        JdbcConversationStore.of(url, null, null).close();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("TRUNCATE parley_violation, parley_stream_lock, parley_event, parley_turn, parley_message, "
                    + "parley_conversation, parley_usage_day");
            String conversation = "CAST(CAST(md5('c' || c) AS uuid) AS text)";
            String promptId = "CAST(CAST(md5('p' || c || '-' || t) AS uuid) AS text)";
            String replyId = "CAST(CAST(md5('r' || c || '-' || t) AS uuid) AS text)";
            String time = "(TIMESTAMPTZ '2026-01-01 00:00:00+00' + (t * " + conversations + " + c) * INTERVAL '1 millisecond')";
            long t0 = System.nanoTime();
            s.execute("INSERT INTO parley_conversation (id, organization_id, workspace_id, repository_id, owner_id, "
                    + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at, streams_ended) "
                    + "SELECT " + conversation + ", 'org-' || (c % 100), 'ws-' || (c % 1000), NULL, 'user-' || (c % 10000), "
                    + "0, 300 * " + turnsEach + ", 55 * " + turnsEach + ", 2 * " + turnsEach + ", "
                    + time.replace("t *", "0 *") + ", " + time.replace("t *", turnsEach + " *") + ", 0 "
                    + "FROM generate_series(1, " + conversations + ") AS c");
            s.execute("INSERT INTO parley_event (id, type, conversation_id, organization_id, workspace_id, actor_id, "
                    + "occurred_at, detail) SELECT CAST(CAST(md5('e' || c) AS uuid) AS text), 'CONVERSATION_CREATED', "
                    + conversation + ", 'org-' || (c % 100), 'ws-' || (c % 1000), 'user-' || (c % 10000), "
                    + time.replace("t *", "0 *") + ", '' FROM generate_series(1, " + conversations + ") AS c");
            // Each turn: the prompt and the reply, numbered 2t-1 and 2t, and the prompt id's claim, completed.
            String turns = " FROM generate_series(1, " + turnsEach + ") AS t CROSS JOIN generate_series(1, "
                    + conversations + ") AS c ORDER BY t, c";
            s.execute("INSERT INTO parley_message (conversation_id, seq, id, role, body, tokens, model, user_tag, "
                    + "source_tag, status, created_at, usage_in, usage_out) SELECT " + conversation + ", 2 * t - 1, "
                    + promptId + ", 'USER', substr(repeat('prompt text of a turn ', 40), 1, 380 + (c % 40)), 85, "
                    + "NULL, NULL, NULL, 'COMPLETE', " + time + ", NULL, NULL" + turns);
            s.execute("INSERT INTO parley_message (conversation_id, seq, id, role, body, tokens, model, user_tag, "
                    + "source_tag, status, created_at, usage_in, usage_out) SELECT " + conversation + ", 2 * t, "
                    + replyId + ", 'ASSISTANT', substr(repeat('reply text of a turn ', 40), 1, 200 + (c % 40)), 55, "
                    + "'instant', NULL, NULL, 'COMPLETE', " + time + ", 300, 55" + turns);
            s.execute("INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq, claimed_at, claim_token, "
                    + "fingerprint, expires_at) SELECT " + conversation + ", " + promptId + ", 'COMPLETE', 2 * t, " + time
                    + ", NULL, encode(sha256(CAST(" + promptId + " AS bytea)), 'hex'), " + time + " + INTERVAL '30 seconds'"
                    + turns);
            s.execute("INSERT INTO parley_usage_day (conversation_id, day, user_id, model, organization_id, "
                    + "workspace_id, requests, prompt_tokens, tokens_in, tokens_out, credits) SELECT " + conversation
                    + ", DATE '2026-01-01', 'user-' || (c % 10000), 'instant', 'org-' || (c % 100), 'ws-' || (c % 1000), "
                    + turnsEach + ", 85 * " + turnsEach + ", 300 * " + turnsEach + ", 55 * " + turnsEach + ", 0 "
                    + "FROM generate_series(1, " + conversations + ") AS c");
            s.execute("VACUUM ANALYZE");
            double took = (System.nanoTime() - t0) / 1e9;
            long messages;
            try (ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM parley_message")) {
                rs.next();
                messages = rs.getLong(1);
            }
            append(String.format("ScalingLoad bulk: %d conversations x %d turns = %d messages inserted in %.1f s%n",
                    conversations, turnsEach, messages, took));
            append(indexReport(url, "  sizes", messages));
        }
    }

    /** Each store table's heap and each index's size, and per million messages when {@code messages} is not 0. */
    private static String indexReport(String url, String title, long messages) throws SQLException {
        StringBuilder out = new StringBuilder(title + "\n");
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT t.relname, i.relname, pg_relation_size(t.oid), "
                     + "pg_relation_size(i.oid), pg_total_relation_size(t.oid) FROM pg_class t "
                     + "LEFT JOIN pg_index x ON x.indrelid = t.oid LEFT JOIN pg_class i ON i.oid = x.indexrelid "
                     + "WHERE t.relname LIKE 'parley%' AND t.relkind = 'r' ORDER BY 1, 2")) {
            String last = "";
            while (rs.next()) {
                String table = rs.getString(1);
                if (!table.equals(last)) {
                    out.append(String.format("  %-28s heap %12d bytes, total %12d%s%n", table, rs.getLong(3),
                            rs.getLong(5), messages == 0 ? "" : String.format(" (%.1f MiB per million messages)",
                                    rs.getLong(5) * 1e6 / messages / 1048576)));
                    last = table;
                }
                if (rs.getString(2) != null) {
                    out.append(String.format("    %-36s %12d bytes%s%n", rs.getString(2), rs.getLong(4),
                            messages == 0 ? "" : String.format(" = %.1f MiB per million messages",
                                    rs.getLong(4) * 1e6 / messages / 1048576)));
                }
            }
        }
        return out.toString();
    }

    private static void append(String text) throws IOException {
        Files.writeString(REPORT, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
