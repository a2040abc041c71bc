package dev.parley.store.jdbc;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.StoreFailureException;
import dev.parley.api.Usage;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Rows the store cannot read back (written by another version, or by hand) are a {@link StoreFailureException},
 * never a raw IllegalStateException or IllegalArgumentException that a caller would take for its own mistake.
 */
class UnreadableRowTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void aMessageWithAnUnknownStatusIsAStoreFailureOnH2() throws Exception {
        String name = "unreadable-" + UUID.randomUUID();
        try (JdbcConversationStore store = JdbcConversationStore.h2InMemory(name)) {
            anUnknownStatusIsAStoreFailure(store, () -> DriverManager.getConnection("jdbc:h2:mem:" + name, "sa", ""));
        }
    }

    @Test
    void aMessageWithAnUnknownStatusIsAStoreFailureOnPostgres() throws Exception {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            anUnknownStatusIsAStoreFailure(store, () -> DriverManager.getConnection(TestDatabases.postgresUrl()));
        }
    }

    @Test
    void aCompletedClaimWhoseReplyIsMissingIsAStoreFailureOnH2() throws Exception {
        String name = "unreadable-" + UUID.randomUUID();
        try (JdbcConversationStore store = JdbcConversationStore.h2InMemory(name)) {
            aMissingReplyIsAStoreFailure(store, () -> DriverManager.getConnection("jdbc:h2:mem:" + name, "sa", ""));
        }
    }

    @Test
    void aCompletedClaimWhoseReplyIsMissingIsAStoreFailureOnPostgres() throws Exception {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            aMissingReplyIsAStoreFailure(store, () -> DriverManager.getConnection(TestDatabases.postgresUrl()));
        }
    }

    @Test
    void aBlockedClaimOrAViolationWithAnUnknownValueIsAStoreFailureOnH2() throws Exception {
        String name = "unreadable-" + UUID.randomUUID();
        try (JdbcConversationStore store = JdbcConversationStore.h2InMemory(name)) {
            unknownGovernanceValuesAreStoreFailures(store,
                    () -> DriverManager.getConnection("jdbc:h2:mem:" + name, "sa", ""));
        }
    }

    @Test
    void aBlockedClaimOrAViolationWithAnUnknownValueIsAStoreFailureOnPostgres() throws Exception {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            unknownGovernanceValuesAreStoreFailures(store, () -> DriverManager.getConnection(TestDatabases.postgresUrl()));
        }
    }

    private static void unknownGovernanceValuesAreStoreFailures(JdbcConversationStore store, Connections db)
            throws Exception {
        ConversationInfo c = conversation(store);
        String at = "TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00'";
        execute(db, "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, block_rule_id, "
                + "block_phase, block_fail_closed) VALUES ('" + c.id() + "', 'm1', 'BLOCKED', " + at
                + ", 'secrets', 'LATER', FALSE)");
        execute(db, "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at) VALUES ('" + c.id()
                + "', 'm2', 'BLOCKED', " + at + ")");
        execute(db, "INSERT INTO parley_violation (id, conversation_id, organization_id, workspace_id, message_id, "
                + "rule_id, category, action, phase, occurred_at, excerpt) VALUES ('v1', '" + c.id() + "', 'org', "
                + "'ws', 'm1', 'secrets', 'SECRET', 'SHOUT', 'PRE', " + at + ", '')");

        assertThatThrownBy(() -> store.claimTurn(c.id(), "m1", "fp", T0, java.time.Duration.ofMinutes(1)))
                .isInstanceOf(StoreFailureException.class)
                .rootCause().hasMessageContaining("block_phase").hasMessageContaining("LATER");
        assertThatThrownBy(() -> store.claimTurn(c.id(), "m2", "fp", T0, java.time.Duration.ofMinutes(1)))
                .isInstanceOf(StoreFailureException.class);
        assertThatThrownBy(() -> store.violations(dev.parley.api.policy.ViolationQuery.workspace("org", "ws"),
                PageRequest.first()))
                .isInstanceOf(StoreFailureException.class)
                .rootCause().hasMessageContaining("action").hasMessageContaining("SHOUT");
    }

    @Test
    void aPolicyRuleWithAnUnknownOrMalformedValueIsAStoreFailureOnH2() throws Exception {
        String name = "unreadable-" + UUID.randomUUID();
        try (JdbcConversationStore store = JdbcConversationStore.h2InMemory(name)) {
            unreadablePolicyRulesAreStoreFailures(store,
                    () -> DriverManager.getConnection("jdbc:h2:mem:" + name, "sa", ""));
        }
    }

    @Test
    void aPolicyRuleWithAnUnknownOrMalformedValueIsAStoreFailureOnPostgres() throws Exception {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            unreadablePolicyRulesAreStoreFailures(store, () -> DriverManager.getConnection(TestDatabases.postgresUrl()));
        }
    }

    /**
     * Each bad rule alone in the registry: the list is a store failure whose cause names the column, and never
     * holds a parameter's value (which may be a deny-listed word).
     */
    private static void unreadablePolicyRulesAreStoreFailures(JdbcConversationStore store, Connections db)
            throws Exception {
        store.putPolicy(dev.parley.api.policy.PolicySpec.builder("good", "deny-list").parameter("words", "hunter2")
                .build());
        assertThat(store.policySpecs()).hasSize(1);
        String[][] bad = {
                {"action = 'SHOUT'", "action"},
                {"phases = 'PRE,LATER'", "phases"},
                {"phases = ''", "phases"},
                {"fail_mode = 'AJAR'", "fail_mode"},
                {"parameters = '5:words9:hunter2'", "parameters"},
                {"parameters = '5:words'", "parameters"},
                {"parameters = 'x:hunter2'", "parameters"},
                {"parameters = '2:p!7:hunter2'", "parameters"},
                {"kind = 'Not A Kind'", "kind"},
                {"time_budget_nanos = 0", "timeBudget"},
                {"organization_id = NULL, workspace_id = 'ws'", "scope.organizationId"},
        };
        for (String[] change : bad) {
            execute(db, "UPDATE parley_policy SET " + change[0] + " WHERE id = 'good'");
            assertThatThrownBy(store::policySpecs).as(change[0]).isInstanceOf(StoreFailureException.class)
                    .satisfies(e -> assertThat(e.getMessage()).doesNotContain("hunter2"))
                    .rootCause().hasMessageContaining(change[1]).hasMessageNotContaining("hunter2");
            store.putPolicy(dev.parley.api.policy.PolicySpec.builder("good", "deny-list")
                    .parameter("words", "hunter2").build()); // readable again
            assertThat(store.policySpecs()).as("after " + change[0]).hasSize(1);
        }
    }

    private interface Connections {
        Connection open() throws SQLException;
    }

    private static void anUnknownStatusIsAStoreFailure(JdbcConversationStore store, Connections db) throws Exception {
        ConversationInfo c = conversation(store);
        Message user = new Message("m1", c.id(), 0, Role.USER, "q", 1, null, null, null, MessageStatus.COMPLETE, T0, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "a", 1, "m", null, null, MessageStatus.COMPLETE, T0,
                new Usage(1, 1));
        store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, T0));
        execute(db, "UPDATE parley_message SET status = 'ARCHIVED' WHERE id = 'r1'");

        assertThatThrownBy(() -> store.messages(c.id(), PageRequest.first()))
                .isInstanceOf(StoreFailureException.class)
                .rootCause().hasMessageContaining("status").hasMessageContaining("ARCHIVED");
        assertThatThrownBy(() -> store.recentMessages(c.id(), Long.MAX_VALUE, 10))
                .isInstanceOf(StoreFailureException.class);
        assertThatThrownBy(() -> store.claimTurn(c.id(), "m1", "fp", T0, java.time.Duration.ofMinutes(1)))
                .isInstanceOf(StoreFailureException.class);
    }

    private static void aMissingReplyIsAStoreFailure(JdbcConversationStore store, Connections db) throws Exception {
        ConversationInfo c = conversation(store);
        execute(db, "INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq, claimed_at) VALUES ('"
                + c.id() + "', 'm1', 'COMPLETE', 42, TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00')");

        assertThatThrownBy(() -> store.claimTurn(c.id(), "m1", "fp", T0, java.time.Duration.ofMinutes(1)))
                .isInstanceOf(StoreFailureException.class);
        assertThat(store.find(c.id())).isPresent();
        assertThat(store.claimTurn(c.id(), "m2", "fp", T0, java.time.Duration.ofMinutes(1))).isInstanceOf(TurnClaim.Claimed.class);
    }

    private static ConversationInfo conversation(JdbcConversationStore store) {
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), "org", "ws", null, "alice", Steering.NONE,
                null, 0, 0, T0, T0);
        store.insert(c, new AuditEvent("e-" + UUID.randomUUID(), AuditEvent.Type.CONVERSATION_CREATED, c.id(), "org",
                "ws", "alice", T0, ""));
        return c;
    }

    private static void execute(Connections db, String sql) throws SQLException {
        try (Connection c = db.open(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate(sql)).isEqualTo(1);
        }
    }
}
