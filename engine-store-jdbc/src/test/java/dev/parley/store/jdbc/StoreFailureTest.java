package dev.parley.store.jdbc;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ErrorCode;
import dev.parley.api.Steering;
import dev.parley.api.StoreFailureException;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StoreFailureTest {
    private static final String SECRET = "my card number is 4111 1111 1111 1111";

    private static ConversationInfo conversation(String id) {
        Instant at = Instant.parse("2026-01-01T00:00:00Z");
        return new ConversationInfo(id, "org", "ws", null, "alice", new Steering(SECRET, null, null, null), null,
                0, 0, at, at);
    }

    private static dev.parley.api.values.AuditEvent created(String id) {
        return new dev.parley.api.values.AuditEvent("e-" + java.util.UUID.randomUUID(),
                dev.parley.api.values.AuditEvent.Type.CONVERSATION_CREATED, id, "org", "ws", "alice",
                Instant.parse("2026-01-01T00:00:00Z"), "");
    }

    @Test
    void aFailedCreateStoresNeitherTheConversationNorItsEvent() {
        try (JdbcConversationStore store = TestDatabases.h2()) {
            store.insert(conversation("c-1"), created("c-1"));
            assertThatThrownBy(() -> store.insert(conversation("c-1"), created("c-1")))
                    .isInstanceOf(StoreFailureException.class);
            assertThat(store.events("c-1")).hasSize(1);
        }
    }

    @Test
    void aFailingStatementIsAStoreFailureWithItsCauseAndNoUserTextInTheChain() {
        try (JdbcConversationStore store = TestDatabases.h2()) {
            store.insert(conversation("c-1"), created("c-1"));

            assertThatThrownBy(() -> store.insert(conversation("c-1"), created("c-1")))
                    .isInstanceOfSatisfying(StoreFailureException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.STORE_FAILURE);
                        assertThat(e.getCause()).isNotNull();
                        for (Throwable t = e; t != null; t = t.getCause()) {
                            assertThat(String.valueOf(t.getMessage())).doesNotContain("4111");
                        }
                    });
        }
    }

    @Test
    void aPostgresConstraintViolationCarriesNoRowValuesInTheChain() throws Exception {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            store.insert(conversation("c-1"), created("c-1"));
            // A CHECK violation makes PostgreSQL describe the whole failing row unless told not to.
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(TestDatabases.postgresUrl())) {
                c.createStatement().execute("ALTER TABLE parley_conversation ADD CONSTRAINT test_no_c2 CHECK (id <> 'c-2')");
            }
            try {
                assertThatThrownBy(() -> store.insert(conversation("c-2"), created("c-2")))
                        .isInstanceOfSatisfying(StoreFailureException.class, e -> {
                            for (Throwable t = e; t != null; t = t.getCause()) {
                                assertThat(String.valueOf(t.getMessage())).doesNotContain("4111");
                            }
                        });
            } finally {
                try (java.sql.Connection c = java.sql.DriverManager.getConnection(TestDatabases.postgresUrl())) {
                    c.createStatement().execute("ALTER TABLE parley_conversation DROP CONSTRAINT test_no_c2");
                }
            }
        }
    }

    @Test
    void aStoreWhoseDatabaseIsGoneFailsWithStoreFailure() {
        JdbcConversationStore store = TestDatabases.h2();
        store.close();

        assertThatThrownBy(() -> store.find("c-1"))
                .isInstanceOf(StoreFailureException.class)
                .hasCauseInstanceOf(org.jdbi.v3.core.JdbiException.class);
    }

    @Test
    void anUnreachableDatabaseIsAStoreFailureAtOpen() {
        assertThatThrownBy(() -> JdbcConversationStore.builder()
                .jdbcUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=1", "u", "p").build())
                .isInstanceOf(StoreFailureException.class)
                .hasCauseInstanceOf(RuntimeException.class);
    }
}
