package dev.parley.store.jdbc;

import dev.parley.api.Conversation;
import dev.parley.api.PageRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.retention.PurgeReport;
import dev.parley.api.retention.RetentionRule;
import dev.parley.core.EngineFixture;
import dev.parley.core.RetentionTest;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * engine-core's {@link RetentionTest} on a JDBC store, and the same purge and erasure checked on the tables
 * themselves: no row left that should be gone, no row gone that should stay.
 */
abstract class StoredRetentionTest extends RetentionTest {
    /** Every table with a conversation id, and the statement counting one conversation's rows in it. */
    private static final Map<String, String> ROWS = new LinkedHashMap<>();

    static {
        ROWS.put("conversation", "SELECT COUNT(*) FROM parley_conversation WHERE id = ?");
        ROWS.put("message", "SELECT COUNT(*) FROM parley_message WHERE conversation_id = ?");
        ROWS.put("message text", "SELECT COUNT(*) FROM parley_message WHERE conversation_id = ? AND body <> ''");
        ROWS.put("turn", "SELECT COUNT(*) FROM parley_turn WHERE conversation_id = ?");
        ROWS.put("stream lock", "SELECT COUNT(*) FROM parley_stream_lock WHERE conversation_id = ?");
        ROWS.put("credit hold", "SELECT COUNT(*) FROM parley_credit_hold WHERE conversation_id = ?");
        ROWS.put("violation", "SELECT COUNT(*) FROM parley_violation WHERE conversation_id = ?");
        ROWS.put("violation excerpt", "SELECT COUNT(*) FROM parley_violation WHERE conversation_id = ? AND excerpt <> ''");
        ROWS.put("event", "SELECT COUNT(*) FROM parley_event WHERE conversation_id = ?");
        ROWS.put("purge event", "SELECT COUNT(*) FROM parley_event WHERE conversation_id = ? AND type = 'CONVERSATION_PURGED'");
        ROWS.put("usage", "SELECT COUNT(*) FROM parley_usage_day WHERE conversation_id = ?");
        ROWS.put("ledger", "SELECT COUNT(*) FROM parley_credit_ledger WHERE conversation_id = ?");
        ROWS.put("summary", "SELECT COUNT(*) FROM parley_summary WHERE conversation_id = ?");
        ROWS.put("compaction claim", "SELECT COUNT(*) FROM parley_compaction WHERE conversation_id = ?");
    }

    /** Stores a summary of the conversation's first {@code toSequence} messages through the store's SummaryLog. */
    private void summarize(Conversation c, long toSequence) {
        dev.parley.api.spi.SummaryLog log = (dev.parley.api.spi.SummaryLog) store;
        String token = java.util.UUID.randomUUID().toString();
        assertThat(log.claimCompaction(c.id(), token, java.time.Instant.now(), Duration.ofSeconds(10))).isTrue();
        java.time.Instant now = java.time.Instant.now();
        assertThat(log.commitSummary(token, new dev.parley.api.compaction.Summary(java.util.UUID.randomUUID().toString(),
                c.id(), 1, toSequence, "A summary of what was said.", 8, EngineFixture.MODEL,
                new dev.parley.api.Usage(40, 8), dev.parley.api.Credits.unmetered(), now), null, null,
                new dev.parley.api.values.AuditEvent(java.util.UUID.randomUUID().toString(),
                        dev.parley.api.values.AuditEvent.Type.CONVERSATION_COMPACTED, c.id(), ORG, WS, "alice", now,
                        "messages=1.." + toSequence))).isPresent();
    }

    @Test
    void aPurgeAndAnErasureTakeTheConversationsSummariesWithThem() throws SQLException {
        Conversation own = conversation(EngineFixture.member("alice"), WS, 3, null);
        Conversation bobs = conversation(EngineFixture.member("bob"), WS, 1, null);
        bobs.send(dev.parley.api.Prompt.text("for alice").user("alice").build());
        Conversation carols = conversation(EngineFixture.member("carol"), WS, 2, null);
        for (Conversation c : List.of(own, bobs, carols)) {
            summarize(c, 2);
            assertThat(rows(c.id())).containsEntry("summary", 1L).containsEntry("compaction claim", 1L);
        }
        Map<String, Long> carolsBefore = rows(carols.id());

        engine.maintenance().erase(ORG, "alice");

        // Alice's own conversation is gone with its summary and claim; Bob's loses the summary that may repeat
        // Alice's words; Carol's keeps everything.
        assertThat(rows(own.id())).containsEntry("conversation", 0L).containsEntry("summary", 0L)
                .containsEntry("compaction claim", 0L);
        assertThat(rows(bobs.id())).containsEntry("conversation", 1L).containsEntry("summary", 0L);
        assertThat(rows(carols.id())).isEqualTo(carolsBefore);
        assertThat(((dev.parley.api.spi.SummaryLog) store).summaries(bobs.id())).isEmpty();
        assertThat(((dev.parley.api.spi.SummaryLog) store).summaries(carols.id())).hasSize(1);
    }

    /** A connection to the store's database. */
    protected abstract Connection connect() throws SQLException;

    private Map<String, Long> rows(String conversationId) throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        try (Connection c = connect()) {
            for (Map.Entry<String, String> table : ROWS.entrySet()) {
                try (PreparedStatement s = c.prepareStatement(table.getValue())) {
                    s.setString(1, conversationId);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        counts.put(table.getKey(), rs.getLong(1));
                    }
                }
            }
        }
        return counts;
    }

    private long count(String sql) throws SQLException {
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aPurgeLeavesNoRowThatShouldBeGoneAndKeepsEveryRowThatShouldStay() throws SQLException {
        Conversation old = conversation(EngineFixture.member("alice"), WS, 3, null);
        clock.advance(Duration.ofDays(400));
        Conversation recent = conversation(EngineFixture.member("alice"), WS, 2, null);
        Map<String, Long> oldBefore = rows(old.id());
        Map<String, Long> recentBefore = rows(recent.id());
        assertThat(oldBefore).containsEntry("message", 6L).containsEntry("turn", 3L).containsEntry("violation", 2L)
                .containsEntry("violation excerpt", 2L).containsEntry("ledger", 3L);
        long ledgerRows = count("SELECT COUNT(*) FROM parley_credit_ledger");

        assertThat(engine.maintenance().purge(RetentionRule.organization(ORG).inactiveFor(Duration.ofDays(365)).build()))
                .isEqualTo(new PurgeReport(1, 6, 0));

        Map<String, Long> expected = new LinkedHashMap<>(oldBefore);
        for (String gone : List.of("conversation", "message", "message text", "turn", "stream lock", "credit hold",
                "violation excerpt")) {
            expected.put(gone, 0L);
        }
        expected.put("event", oldBefore.get("event") + 1);
        expected.put("purge event", 1L);
        assertThat(rows(old.id())).isEqualTo(expected);
        assertThat(rows(recent.id())).isEqualTo(recentBefore);
        assertThat(count("SELECT COUNT(*) FROM parley_credit_ledger")).isEqualTo(ledgerRows);
    }

    @Test
    void anErasureLeavesNoneOfTheUsersRowsAndKeepsEveryAmount() throws SQLException {
        Conversation own = conversation(EngineFixture.member("alice"), WS, 2, null);
        Conversation bobs = conversation(EngineFixture.member("bob"), WS, 1, null);
        bobs.send(dev.parley.api.Prompt.text("for alice").user("alice").build());
        Map<String, Long> bobsBefore = rows(bobs.id());
        String sum = "SELECT COALESCE(SUM(amount), 0) FROM parley_credit_ledger";
        java.math.BigDecimal total;
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sum); ResultSet rs = s.executeQuery()) {
            rs.next();
            total = rs.getBigDecimal(1);
        }
        List<LedgerEntry> before = engine.credits().ledger(account, PageRequest.of(1, 100)).items();

        engine.maintenance().erase(ORG, "alice");

        Map<String, Long> ownAfter = rows(own.id());
        assertThat(ownAfter).containsEntry("conversation", 0L).containsEntry("message", 0L).containsEntry("turn", 0L)
                .containsEntry("ledger", 0L).containsEntry("violation excerpt", 0L).containsEntry("purge event", 1L);
        Map<String, Long> bobsExpected = new LinkedHashMap<>(bobsBefore);
        bobsExpected.put("message text", bobsBefore.get("message text") - 2);
        bobsExpected.put("event", bobsBefore.get("event") + 1);
        assertThat(rows(bobs.id())).isEqualTo(bobsExpected);
        assertThat(count("SELECT COUNT(*) FROM parley_usage_day WHERE user_id = 'alice'")).isZero();
        assertThat(count("SELECT COUNT(*) FROM parley_event WHERE actor_id = 'alice'")).isZero();
        assertThat(count("SELECT COUNT(*) FROM parley_message WHERE user_tag = 'alice'")).isZero();
        assertThat(count("SELECT COUNT(*) FROM parley_credit_ledger")).isEqualTo(before.size());
        try (Connection c = connect(); PreparedStatement s = c.prepareStatement(sum); ResultSet rs = s.executeQuery()) {
            rs.next();
            assertThat(rs.getBigDecimal(1)).isEqualByComparingTo(total);
        }
    }
}
