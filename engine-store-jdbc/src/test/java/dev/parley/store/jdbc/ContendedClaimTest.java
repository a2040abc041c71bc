package dev.parley.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.ConversationInfo;
import dev.parley.api.Steering;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request waiting for a claim (or a stream lock) held elsewhere asks again every few milliseconds. Asking must
 * not fail a statement: PostgreSQL logs every failed statement as an ERROR, with its SQL.
 */
class ContendedClaimTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void askingForAClaimHeldElsewhereFailsNoStatementOnH2() {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:h2:mem:contended-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        config.setUsername("sa");
        config.setPassword("");
        askingAgainFailsNoStatement(config);
    }

    @Test
    void askingForAClaimHeldElsewhereFailsNoStatementOnPostgres() {
        TestDatabases.postgres().close();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(TestDatabases.postgresUrl());
        askingAgainFailsNoStatement(config);
    }

    private static void askingAgainFailsNoStatement(HikariConfig config) {
        List<String> failed = new ArrayList<>();
        try (HikariDataSource pool = new HikariDataSource(config);
             JdbcConversationStore store = JdbcConversationStore.of(failuresOf(pool, failed))) {
            ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), "org", "ws", null, "alice",
                    Steering.NONE, null, 0, 0, T0, T0);
            store.insert(c, new AuditEvent("e-" + UUID.randomUUID(), AuditEvent.Type.CONVERSATION_CREATED, c.id(),
                    "org", "ws", "alice", T0, ""));
            assertThat(store.claimTurn(c.id(), "m1", "fp", T0, Duration.ofMinutes(1))).isInstanceOf(TurnClaim.Claimed.class);
            assertThat(store.acquireStreamLock(c.id(), "h1", T0, Duration.ofMinutes(1))).isTrue();

            for (int i = 1; i <= 20; i++) {
                assertThat(store.claimTurn(c.id(), "m1", "fp", T0.plusMillis(20L * i), Duration.ofMinutes(1)))
                        .isInstanceOf(TurnClaim.InProgress.class);
                assertThat(store.acquireStreamLock(c.id(), "h2", T0.plusMillis(20L * i), Duration.ofMinutes(1))).isFalse();
            }

            assertThat(failed).isEmpty();
        }
    }

    /**
     * The data source, recording the SQL of every statement that fails on the database (the statements of the
     * store's own migrations at open included).
     */
    private static DataSource failuresOf(DataSource target, List<String> failed) {
        return proxy(DataSource.class, target, failed, null);
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, Object target, List<String> failed, String sql) {
        InvocationHandler handler = (self, method, args) -> {
            Object result;
            try {
                result = method.invoke(target, args);
            } catch (InvocationTargetException e) {
                if (e.getCause() instanceof SQLException && target instanceof Statement) {
                    synchronized (failed) {
                        failed.add(sql != null ? sql : String.valueOf(args == null ? null : args[0]));
                    }
                }
                throw e.getCause();
            }
            if (result instanceof Connection connection && method.getReturnType() == Connection.class) {
                return proxy(Connection.class, connection, failed, null);
            }
            if (result instanceof Statement statement && Statement.class.isAssignableFrom(method.getReturnType())) {
                String text = args != null && args.length > 0 && args[0] instanceof String s ? s : null;
                return proxy((Class<Statement>) method.getReturnType(), statement, failed, text);
            }
            return result;
        };
        return (T) Proxy.newProxyInstance(ContendedClaimTest.class.getClassLoader(), new Class<?>[] {type}, handler);
    }
}
