package dev.parley.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.Usage;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.Violation;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import dev.parley.core.EngineFixture;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every statement of a turn reads one partition of each partitioned table it reads, on the partitioned schema
 * ({@link PartitionedPostgres}): the co-location that lets a distributed PostgreSQL route a turn to one shard.
 *
 * <p>The statements are not listed by hand: a workload of turns (sends, a replay, metered turns, a stream, a cancel
 * request, claims renewed, released and taken over, stream locks taken over, blocked turns, turns with violations and
 * events, a fenced commit refused, a message page) runs through an engine and the store on a data source that records
 * every statement the store prepares with the values bound to it. Each distinct statement is then EXPLAINed twice:
 *
 * <ul>
 *   <li>as the driver sends it, with its values bound: PostgreSQL plans it with the values as constants (a custom
 *       plan) and prunes the partitions at planning time, so the plan names exactly one partition of each table it
 *       reads, and no Append of partitions;</li>
 *   <li>as a generic plan ({@code PREPARE}, {@code SET plan_cache_mode = force_generic_plan}, {@code EXPLAIN
 *       EXECUTE}), the plan a server-side prepared statement reuses: the conversation id is a parameter when it is
 *       planned, so the plan keeps an Append of every partition, and PostgreSQL prunes it when the executor starts,
 *       with the parameter's value: EXPLAIN then shows the one partition left and "Subplans Removed: 7".</li>
 * </ul>
 *
 * <p>An INSERT ... VALUES reads no partition: PostgreSQL routes the row to the partition of its conversation id's
 * hash, which EXPLAIN does not show; the test checks instead where the workload's rows are, by their
 * {@code tableoid}: every row of a conversation, in every partitioned table, is in the partition of the same
 * remainder (co-located). The plans are written to {@code target/partition-plans-postgresql.txt}.
 */
class PartitionPruningTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration SHORT = Duration.ofMillis(1);
    private static final Duration LEASE = Duration.ofMinutes(1);
    /** A partition of a partitioned table, in a plan: {@code parley_message_p3}, also inside an index name. */
    private static final Pattern PARTITION = Pattern.compile("(parley_[a-z_]+?)_p(\\d+)(?!\\d)");
    /**
     * Statements the workload must have run, by how each starts: the turn path's writes besides the reads every
     * turn makes, so that a workload that stopped reaching one of them fails here rather than pass with fewer plans.
     */
    private static final List<String> EXPECTED = List.of(
            "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, claim_token",
            "SELECT status, reply_seq, claim_token",
            "UPDATE parley_turn SET claim_token = ?",
            "UPDATE parley_turn SET expires_at",
            "DELETE FROM parley_turn",
            "UPDATE parley_turn SET status = 'COMPLETE'",
            "UPDATE parley_turn SET status = 'BLOCKED'",
            "INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq",
            "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, fingerprint, block_rule_id",
            "UPDATE parley_conversation SET tokens_in",
            "SELECT COUNT(*) FROM parley_conversation",
            "INSERT INTO parley_message",
            "UPDATE parley_message SET credits_metered",
            "SELECT COUNT(*) FROM parley_message",
            "INSERT INTO parley_event",
            "INSERT INTO parley_violation",
            "INSERT INTO parley_stream_lock",
            "UPDATE parley_stream_lock SET holder",
            "UPDATE parley_stream_lock SET expires_at",
            "UPDATE parley_stream_lock SET cancel_requested",
            "DELETE FROM parley_stream_lock",
            "UPDATE parley_conversation SET streams_ended",
            "UPDATE parley_usage_day",
            "INSERT INTO parley_usage_day",
            "SELECT c.settings_version",
            "SELECT seq, role, body, tokens FROM parley_message",
            "SELECT message_count FROM parley_conversation");

    /** Statements recorded, by their SQL, with the values of their first execution. */
    private final Map<String, Map<Integer, Object>> recorded = new LinkedHashMap<>();
    private final AtomicBoolean recording = new AtomicBoolean();

    @Test
    void everyStatementOfATurnReadsOnePartitionOfEachPartitionedTable() throws Exception {
        String url = PartitionedPostgres.url();
        TestDatabases.emptied(url).close();
        assertPartitioned(url);
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        String conversationId;
        try (HikariDataSource pool = new HikariDataSource(config);
             JdbcConversationStore store = JdbcConversationStore.of(recorded(pool))) {
            conversationId = workload(store);
        }
        for (String start : EXPECTED) {
            assertThat(recorded.keySet()).as("a statement starting " + start)
                    .anyMatch(sql -> sql.startsWith(start));
        }
        Map<String, String> plans = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(url)) {
            int n = 0;
            for (Map.Entry<String, Map<Integer, Object>> s : recorded.entrySet()) {
                String sql = s.getKey();
                if (!explainable(sql)) {
                    continue;
                }
                Set<String> read = readTables(sql);
                Set<String> written = partitionedTables(sql);
                String custom = customPlan(c, sql, s.getValue());
                String generic = genericPlan(c, sql, s.getValue());
                n++;
                plans.put(n + ". " + sql, "custom plan:\n" + custom + "\n\ngeneric plan:\n" + generic);
                for (String table : written) {
                    if (read.contains(table)) {
                        assertThat(scanned(custom, table)).as("partitions of %s read by the custom plan of %s\n%s",
                                table, sql, custom).hasSize(1);
                        assertThat(scanned(generic, table)).as("partitions of %s read by the generic plan of %s\n%s",
                                table, sql, generic).hasSize(1);
                    } else {
                        assertThat(scanned(custom, table)).as("partitions of %s read by %s", table, sql).isEmpty();
                        assertThat(scanned(generic, table)).as("partitions of %s read by %s", table, sql).isEmpty();
                    }
                }
                // Pruned when planned: no Append of partitions left to prune.
                assertThat(custom).as(sql).doesNotContain("Subplans Removed");
                // Pruned when the executor starts: each Append of a table's partitions keeps one of the 8.
                Matcher removed = Pattern.compile("Subplans Removed: (\\d+)").matcher(generic);
                int appends = 0;
                while (removed.find()) {
                    assertThat(Integer.parseInt(removed.group(1))).as(sql)
                            .isEqualTo(PartitionedPostgres.PARTITIONS - 1);
                    appends++;
                }
                if (!read.isEmpty()) {
                    assertThat(appends).as("pruned Appends in the generic plan of %s\n%s", sql, generic)
                            .isGreaterThanOrEqualTo(1);
                }
            }
        }
        write(plans);
        assertColocated(url, conversationId);
    }

    /** Turns of every kind on one conversation; its id. */
    private String workload(JdbcConversationStore store) throws Exception {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "a reply of a few tokens").usage(7, 5).build();
        try (ConversationEngine engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .clock(Clock.systemUTC()).price(EngineFixture.MODEL, ModelPrice.perThousand("0.5", "1.5")).build()) {
            CreditAccount account = engine.credits().open(AccountOwner.organization(EngineFixture.ORG));
            engine.credits().topUp(account.id(), new BigDecimal("1000"), "funds");
            Conversation c = engine.as(EngineFixture.member("alice"))
                    .create(NewConversation.inWorkspace(EngineFixture.WS).build());
            recording.set(true);
            // Sends: a new id, its replay, and one without an id (a day's first metered turn makes the usage row).
            c.send(Prompt.text("hello").id("m1").build());
            c.send(Prompt.text("hello").id("m1").build());
            c.send(Prompt.text("again").build());
            // A stream, then a cancel request when none runs.
            List<Reply> done = new ArrayList<>();
            StreamHandle h = c.stream(Prompt.text("streamed").build(), new StreamListener() {
                @Override
                public void onDelta(String delta) {
                }

                @Override
                public void onComplete(Reply reply) {
                    done.add(reply);
                }

                @Override
                public void onError(RuntimeException error) {
                }
            });
            assertThat(h.await(Duration.ofSeconds(30))).isTrue();
            assertThat(done).hasSize(1);
            c.cancelStream();
            c.messages(PageRequest.of(1, 20));
            storeTurns(store, c.id());
            recording.set(false);
            return c.id();
        }
    }

    /** The store's turn statements the engine's happy path does not reach: take-overs, releases, blocks, fences. */
    private static void storeTurns(JdbcConversationStore store, String id) throws InterruptedException {
        // A claim renewed, one released, one taken over after its lease.
        String renewed = claimed(store.claimTurn(id, "p-renewed", "fp", T0, LEASE));
        assertThat(store.renewTurn(id, "p-renewed", renewed, T0, LEASE)).isTrue();
        store.releaseTurn(id, "p-renewed", renewed);
        claimed(store.claimTurn(id, "p-lapsed", "fp", T0, SHORT));
        Thread.sleep(20);
        String taken = claimed(store.claimTurn(id, "p-lapsed", "fp", T0, LEASE));
        // A turn with violations and an event, on the claim it took over.
        store.commitTurn(ordinary(id, "p-lapsed", taken).withViolations(List.of(violation(id, "p-lapsed")))
                .withEvents(List.of(event(id, AuditEvent.Type.PROMPT_BLOCKED))));
        // A turn that made no claim: its id recorded as complete.
        store.commitTurn(ordinary(id, "p-unclaimed", null).withMeter(new UsageEntry("alice", "m", 1)));
        // A claim of an id that is a stored reply's: in use, claims nothing.
        assertThat(store.claimTurn(id, "r-p-unclaimed", "fp", T0, LEASE)).isInstanceOf(TurnClaim.IdInUse.class);
        // Blocked: on its claim, and without one.
        PolicyBlock block = new PolicyBlock("secrets", PolicyPhase.PRE, false);
        String blockedToken = claimed(store.claimTurn(id, "p-blocked", "fp", T0, LEASE));
        store.commitTurn(TurnRecord.blocked(id, "p-blocked", new Usage(1, 0), T0, blockedToken, block,
                List.of(violation(id, "p-blocked")), List.of(event(id, AuditEvent.Type.PROMPT_BLOCKED))));
        store.commitTurn(TurnRecord.blocked(id, "p-blocked-unclaimed", new Usage(1, 0), T0, null, block, List.of(),
                List.of()));
        // A stream lock renewed, and one taken over after its lease; a cancel request on the live lock.
        assertThat(store.acquireStreamLock(id, "holder-1", T0, SHORT)).isTrue();
        Thread.sleep(20);
        assertThat(store.acquireStreamLock(id, "holder-2", T0, LEASE)).isTrue();
        assertThat(store.renewStreamLock(id, "holder-2", T0, LEASE)).isTrue();
        store.requestStreamCancel(id, "holder", T0);
        // A send's commit fenced against the live stream: refused, and the conversation found live.
        long ended = store.streamStatus(id, T0).streamsEnded();
        try {
            store.commitTurn(ordinary(id, "p-fenced", null).withStreamsEnded(ended));
        } catch (RuntimeException expected) {
            // ConversationLockedException: the stream holds the conversation
        }
        store.releaseStreamLock(id, "holder-2");
        store.findWithStreams(id, T0);
    }

    private static String claimed(TurnClaim claim) {
        assertThat(claim).isInstanceOf(TurnClaim.Claimed.class);
        return ((TurnClaim.Claimed) claim).token();
    }

    private static TurnRecord ordinary(String id, String promptId, String token) {
        Message user = new Message(promptId, id, 0, Role.USER, "q", 1, null, null, null, MessageStatus.COMPLETE, T0,
                null);
        Message reply = new Message("r-" + promptId, id, 0, Role.ASSISTANT, "a", 1, "m", null, null,
                MessageStatus.COMPLETE, T0, new Usage(1, 1));
        return new TurnRecord(id, promptId, user, reply, new Usage(1, 1), true, T0, token);
    }

    private static Violation violation(String id, String promptId) {
        return new Violation("v-" + UUID.randomUUID(), id, EngineFixture.ORG, EngineFixture.WS, promptId, "secrets",
                "SECRET", PolicyAction.BLOCK, PolicyPhase.PRE, T0, "[SECRET]");
    }

    private static AuditEvent event(String id, AuditEvent.Type type) {
        return new AuditEvent("e-" + UUID.randomUUID(), type, id, EngineFixture.ORG, EngineFixture.WS, "alice", T0, "");
    }

    /** Whether EXPLAIN takes {@code sql}: a query or a change of rows (not a SET or a transaction statement). */
    private static boolean explainable(String sql) {
        String start = sql.stripLeading().toUpperCase(Locale.ROOT);
        return start.startsWith("SELECT") || start.startsWith("INSERT") || start.startsWith("UPDATE")
                || start.startsWith("DELETE") || start.startsWith("WITH");
    }

    /** The partitioned tables {@code sql} names. */
    private static Set<String> partitionedTables(String sql) {
        Set<String> tables = new TreeSet<>();
        for (String t : PartitionedPostgres.TABLES) {
            if (Pattern.compile("\\b" + t + "\\b").matcher(sql).find()) {
                tables.add(t);
            }
        }
        return tables;
    }

    /** The partitioned tables {@code sql} reads (or updates or deletes from): those it names besides an INSERT's target. */
    private static Set<String> readTables(String sql) {
        return partitionedTables(sql.replaceFirst("^\\s*INSERT INTO \\w+", "INSERT INTO"));
    }

    /** The partitions of {@code table} that the scans of {@code plan} read (a result relation is not a read). */
    private static Set<String> scanned(String plan, String table) {
        Set<String> partitions = new TreeSet<>();
        for (String line : plan.split("\n")) {
            if (!line.contains("Scan")) {
                continue;
            }
            Matcher m = PARTITION.matcher(line);
            while (m.find()) {
                if (m.group(1).equals(table)) {
                    partitions.add(m.group(1) + "_p" + m.group(2));
                }
            }
        }
        return partitions;
    }

    /** The plan of {@code sql} as the driver runs it: its values bound, so PostgreSQL plans with them. */
    private static String customPlan(Connection c, String sql, Map<Integer, Object> values) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("EXPLAIN " + sql)) {
            for (Map.Entry<Integer, Object> v : values.entrySet()) {
                s.setObject(v.getKey(), v.getValue());
            }
            return lines(s.executeQuery());
        }
    }

    /**
     * The generic plan of {@code sql}: planned without its values, as a prepared statement that PostgreSQL plans
     * once and reuses, then EXPLAINed as it executes with them (when the executor starts, it prunes).
     */
    private static String genericPlan(Connection c, String sql, Map<Integer, Object> values) throws SQLException {
        StringBuilder numbered = new StringBuilder();
        int n = 0;
        for (char ch : sql.toCharArray()) {
            if (ch == '?') {
                numbered.append('$').append(++n);
            } else {
                numbered.append(ch);
            }
        }
        StringBuilder arguments = new StringBuilder();
        for (int i = 1; i <= n; i++) {
            Object v = values.get(i);
            arguments.append(i == 1 ? "" : ", ")
                    .append(v == null ? "NULL" : "'" + v.toString().replace("'", "''") + "'");
        }
        try (Statement s = c.createStatement()) {
            s.execute("SET plan_cache_mode = force_generic_plan");
            s.execute("PREPARE parley_generic AS " + numbered);
            try {
                return lines(s.executeQuery("EXPLAIN EXECUTE parley_generic" + (n == 0 ? "" : "(" + arguments + ")")));
            } finally {
                s.execute("DEALLOCATE parley_generic");
                s.execute("RESET plan_cache_mode");
            }
        }
    }

    private static String lines(ResultSet rs) throws SQLException {
        StringBuilder out = new StringBuilder();
        while (rs.next()) {
            out.append(out.length() == 0 ? "" : "\n").append(rs.getString(1));
        }
        return out.toString();
    }

    /** The variant is in place: each table partitioned by hash in 8. */
    private static void assertPartitioned(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement s = c.prepareStatement("SELECT p.partstrat, "
                     + "(SELECT COUNT(*) FROM pg_inherits i WHERE i.inhparent = p.partrelid) "
                     + "FROM pg_partitioned_table p WHERE p.partrelid = CAST(? AS regclass)")) {
            for (String table : PartitionedPostgres.TABLES) {
                s.setString(1, table);
                try (ResultSet rs = s.executeQuery()) {
                    assertThat(rs.next()).as(table + " is partitioned").isTrue();
                    assertThat(rs.getString(1)).as(table).isEqualTo("h");
                    assertThat(rs.getLong(2)).as(table).isEqualTo(PartitionedPostgres.PARTITIONS);
                }
            }
        }
    }

    /** Every row of the conversation, in every partitioned table, is in the partition of one remainder. */
    private static void assertColocated(String url, String conversationId) throws SQLException {
        Map<String, Set<String>> partitions = new TreeMap<>();
        try (Connection c = DriverManager.getConnection(url)) {
            for (String table : PartitionedPostgres.TABLES) {
                String column = table.equals("parley_conversation") ? "id" : "conversation_id";
                try (PreparedStatement s = c.prepareStatement("SELECT DISTINCT CAST(tableoid AS regclass) FROM "
                        + table + " WHERE " + column + " = ?")) {
                    s.setString(1, conversationId);
                    Set<String> found = new TreeSet<>();
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            found.add(rs.getString(1));
                        }
                    }
                    partitions.put(table, found);
                }
            }
        }
        Set<String> remainders = new TreeSet<>();
        partitions.forEach((table, found) -> {
            // Every table has rows of the workload's conversation but the stream lock, released at its end.
            if (!table.equals("parley_stream_lock")) {
                assertThat(found).as("partitions of %s holding the conversation's rows", table).hasSize(1);
            }
            found.forEach(p -> remainders.add(p.substring(p.lastIndexOf("_p") + 2)));
        });
        assertThat(remainders).as("remainders of the partitions holding the conversation: %s", partitions).hasSize(1);
    }

    private static void write(Map<String, String> plans) throws IOException {
        StringBuilder out = new StringBuilder();
        plans.forEach((sql, plan) -> out.append("## ").append(sql).append("\n\n").append(plan).append("\n\n"));
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "partition-plans-postgresql.txt"), out);
    }

    /** The data source, recording the statements its connections prepare, with their values, while recording is on. */
    private DataSource recorded(DataSource target) {
        return proxy(DataSource.class, target, null);
    }

    @SuppressWarnings("unchecked")
    private <T> T proxy(Class<T> type, Object target, String sql) {
        Map<Integer, Object> values = new HashMap<>();
        InvocationHandler handler = (self, method, args) -> {
            String name = method.getName();
            if (sql != null && recording.get()) {
                if (name.startsWith("set") && args != null && args.length >= 2 && args[0] instanceof Integer i) {
                    values.put(i, name.equals("setNull") ? null : args[1]);
                } else if (name.equals("clearParameters")) {
                    values.clear();
                } else if (name.startsWith("execute")) {
                    recorded.putIfAbsent(sql, new TreeMap<>(values));
                }
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (result instanceof Connection connection && method.getReturnType() == Connection.class) {
                return proxy(Connection.class, connection, null);
            }
            if (result instanceof PreparedStatement statement && args != null && args.length > 0
                    && args[0] instanceof String text
                    && PreparedStatement.class.isAssignableFrom(method.getReturnType())) {
                return proxy((Class<PreparedStatement>) method.getReturnType(), statement, text);
            }
            return result;
        };
        return (T) Proxy.newProxyInstance(PartitionPruningTest.class.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
