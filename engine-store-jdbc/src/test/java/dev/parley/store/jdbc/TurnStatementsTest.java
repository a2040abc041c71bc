package dev.parley.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
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
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The statements a commit runs, counted at the JDBC driver: the turn path is performance-critical, so an ordinary
 * turn (no violations, not blocked) must run exactly what it ran before governance came (the conversation's
 * totals, the two messages, the claim's completion), and a violation costs one execution of one more prepared
 * statement, however many the turn has. A whole send runs no statement more for the policy registry: only the
 * first turn after a change of the rules reads them. A turn with a meter (every send's) runs one statement more:
 * the turn added to its day's usage row in the turn's own transaction (two for a day's first turn, which makes
 * the row).
 */
class TurnStatementsTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final PolicyBlock BLOCK = new PolicyBlock("secrets", PolicyPhase.PRE, false);

    /** Statements prepared and executed while counting is on. */
    private final AtomicInteger prepared = new AtomicInteger();
    private final AtomicInteger executed = new AtomicInteger();
    private final AtomicBoolean counting = new AtomicBoolean();

    @Test
    void aTurnWithoutViolationsRunsNoStatementMoreOnH2() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:statements-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        config.setUsername("sa");
        config.setPassword("");
        countStatements(config);
    }

    @Test
    void aTurnWithoutViolationsRunsNoStatementMoreOnPostgres() {
        TestDatabases.postgres().close();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(TestDatabases.postgresUrl());
        countStatements(config);
    }

    private void countStatements(HikariConfig config) {
        try (HikariDataSource pool = new HikariDataSource(config);
             JdbcConversationStore store = JdbcConversationStore.of(counted(pool))) {
            ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), "org", "ws", null, "alice",
                    Steering.NONE, null, 0, 0, T0, T0);
            store.insert(c, new AuditEvent("e-" + UUID.randomUUID(), AuditEvent.Type.CONVERSATION_CREATED, c.id(),
                    "org", "ws", "alice", T0, ""));

            // Totals (one UPDATE returning the count), both messages (one statement executed twice), the claim.
            assertThat(commit(store, ordinary(store, c, "m1", List.of()))).isEqualTo(new int[] {3, 4});
            // Each violation is one more execution of one more statement.
            assertThat(commit(store, ordinary(store, c, "m2", List.of(violation(c, "m2")))))
                    .isEqualTo(new int[] {4, 5});
            assertThat(commit(store, ordinary(store, c, "m3", List.of(violation(c, "m3"), violation(c, "m3"),
                    violation(c, "m3"))))).isEqualTo(new int[] {4, 7});
            // A meter is one more statement: the turn added to its day's usage row. The day's first turn makes
            // the row, one statement more, which reads the conversation's scope itself.
            assertThat(commit(store, ordinary(store, c, "m6", List.of()).withMeter(new UsageEntry("alice", "m", 1))))
                    .isEqualTo(new int[] {5, 6});
            assertThat(commit(store, ordinary(store, c, "m7", List.of()).withMeter(new UsageEntry("alice", "m", 1))))
                    .isEqualTo(new int[] {4, 5});
            // Blocked: totals, its event, its violation, and the claim settled; no message.
            String token = token(store, c, "m4");
            TurnRecord blocked = TurnRecord.blocked(c.id(), "m4", new Usage(1, 0), T0, token, BLOCK,
                    List.of(violation(c, "m4")), List.of(new AuditEvent("e-" + UUID.randomUUID(),
                            AuditEvent.Type.PROMPT_BLOCKED, c.id(), "org", "ws", "alice", T0, "")));
            assertThat(commit(store, blocked)).isEqualTo(new int[] {4, 4});
            // Blocked without violations or events, and without a claim: totals and the id recorded.
            assertThat(commit(store, TurnRecord.blocked(c.id(), "m5", new Usage(1, 0), T0, null, BLOCK, List.of(),
                    List.of()))).isEqualTo(new int[] {2, 2});
        }
    }

    /**
     * The statements prepared and executed by a send of a prompt without an id, on both databases: what it ran
     * before the store was a policy registry ({5, 6}: the one statement that reads the conversation with its
     * streams reads the registry's version too), and one more of each since the store keeps a usage ledger: the
     * send added to its day's usage row in the turn's own commit transaction (so that the report never counts a
     * turn that was not stored, nor misses one that was), one {@code UPDATE} by the row's key once the day's first
     * turn (here the warm-up) made it.
     */
    private static final int[] SEND = {6, 7};

    @Test
    void aSendRunsNoStatementMoreForThePolicyRegistryOnH2() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:send-statements-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        config.setUsername("sa");
        config.setPassword("");
        countSendStatements(config);
    }

    @Test
    void aSendRunsNoStatementMoreForThePolicyRegistryOnPostgres() {
        TestDatabases.postgres().close();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(TestDatabases.postgresUrl());
        countSendStatements(config);
    }

    /**
     * A whole send through an engine: the registry's version comes with the conversation's read, so a send runs
     * what it ran before the store was a registry; only the first turn after a change reads the rules (the
     * version and the list), once.
     */
    private void countSendStatements(HikariConfig config) {
        try (HikariDataSource pool = new HikariDataSource(config);
             JdbcConversationStore store = JdbcConversationStore.of(counted(pool));
             ConversationEngine engine = ConversationEngine.builder().store(store)
                     .model(EngineFixture.MODEL, ScriptedModel.echo()).policyFactory(NOTHING_FOUND).build()) {
            Conversation c = engine.as(EngineFixture.member("alice"))
                    .create(NewConversation.inWorkspace(EngineFixture.WS).build());
            c.send(Prompt.text("warm up").build());

            assertThat(send(c, "hello")).as("prepared, executed").isEqualTo(SEND);

            store.putPolicy(PolicySpec.builder("quiet", "nothing-found").build());
            assertThat(send(c, "after a change")).as("the first turn after a change reads the rules, once")
                    .isEqualTo(new int[] {SEND[0] + 2, SEND[1] + 2});
            assertThat(send(c, "checked")).as("checked with the registry's rule").isEqualTo(SEND);
        }
    }

    /** A policy kind whose policies find nothing. */
    private static final PolicyFactory NOTHING_FOUND = new PolicyFactory() {
        @Override
        public String kind() {
            return "nothing-found";
        }

        @Override
        public Policy create(PolicySpec spec) {
            return new Policy() {
                @Override
                public String id() {
                    return spec.id();
                }

                @Override
                public List<Finding> check(PolicyInput input) {
                    return List.of();
                }
            };
        }
    };

    /** Sends {@code text}, and returns the statements the send prepared and executed. */
    private int[] send(Conversation c, String text) {
        prepared.set(0);
        executed.set(0);
        counting.set(true);
        try {
            c.send(Prompt.text(text).build());
        } finally {
            counting.set(false);
        }
        return new int[] {prepared.get(), executed.get()};
    }

    private TurnRecord ordinary(JdbcConversationStore store, ConversationInfo c, String promptId,
                                List<Violation> violations) {
        String token = token(store, c, promptId);
        Message user = new Message(promptId, c.id(), 0, Role.USER, "q", 1, null, null, null, MessageStatus.COMPLETE,
                T0, null);
        Message reply = new Message("r-" + promptId, c.id(), 0, Role.ASSISTANT, "a", 1, "m", null, null,
                MessageStatus.COMPLETE, T0, new Usage(1, 1));
        return new TurnRecord(c.id(), promptId, user, reply, new Usage(1, 1), true, T0, token)
                .withViolations(violations);
    }

    private static String token(JdbcConversationStore store, ConversationInfo c, String promptId) {
        TurnClaim claim = store.claimTurn(c.id(), promptId, "fp", T0, Duration.ofMinutes(1));
        assertThat(claim).isInstanceOf(TurnClaim.Claimed.class);
        return ((TurnClaim.Claimed) claim).token();
    }

    private static Violation violation(ConversationInfo c, String promptId) {
        return new Violation("v-" + UUID.randomUUID(), c.id(), "org", "ws", promptId, "secrets", "SECRET",
                PolicyAction.BLOCK, PolicyPhase.PRE, T0, "[SECRET]");
    }

    /** Commits {@code turn}, and returns the statements it prepared and executed. */
    private int[] commit(JdbcConversationStore store, TurnRecord turn) {
        prepared.set(0);
        executed.set(0);
        counting.set(true);
        try {
            store.commitTurn(turn);
        } finally {
            counting.set(false);
        }
        return new int[] {prepared.get(), executed.get()};
    }

    /** The data source, counting the statements its connections prepare and execute while counting is on. */
    private DataSource counted(DataSource target) {
        return proxy(DataSource.class, target);
    }

    @SuppressWarnings("unchecked")
    private <T> T proxy(Class<T> type, Object target) {
        InvocationHandler handler = (self, method, args) -> {
            String name = method.getName();
            if (counting.get()) {
                if (target instanceof Connection && (name.startsWith("prepare") || name.equals("createStatement"))) {
                    prepared.incrementAndGet();
                }
                if (target instanceof Statement && name.startsWith("execute")) {
                    executed.incrementAndGet();
                }
            }
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            if (result instanceof Connection connection && method.getReturnType() == Connection.class) {
                return proxy(Connection.class, connection);
            }
            if (result instanceof Statement statement && Statement.class.isAssignableFrom(method.getReturnType())) {
                return proxy((Class<Statement>) method.getReturnType(), statement);
            }
            return result;
        };
        return (T) Proxy.newProxyInstance(TurnStatementsTest.class.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
