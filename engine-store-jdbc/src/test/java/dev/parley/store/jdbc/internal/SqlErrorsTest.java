package dev.parley.store.jdbc.internal;

import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ParleyException;
import dev.parley.api.StoreFailureException;
import dev.parley.store.jdbc.JdbcConversationStore;
import dev.parley.store.jdbc.TestDatabases;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.UUID;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The SQL error mapper on real errors of both databases: a unique violation and a missing foreign key parent
 * are told apart (H2 and PostgreSQL report the latter with different states), neither is mistaken for another
 * error, and a translated failure keeps its cause and names no SQL argument.
 */
class SqlErrorsTest {
    private static final String SECRET = "value-4111-1111";

    /** The databases the store runs on, each with the store's schema. */
    enum Database {
        H2 {
            @Override
            void run(Consumer<Handle> test) {
                String name = "sql-errors-" + UUID.randomUUID();
                JdbcConversationStore.h2InMemory(name).close(); // the schema; the database outlives the store
                jdbi(Jdbi.create("jdbc:h2:mem:" + name, "sa", "")).useHandle(test::accept);
            }
        },
        POSTGRESQL {
            @Override
            void run(Consumer<Handle> test) {
                TestDatabases.postgres().close(); // the schema, emptied
                jdbi(Jdbi.create(TestDatabases.postgresUrl())).useHandle(test::accept);
            }
        };

        /** Runs {@code test} on a connection to a fresh database with the store's schema. */
        abstract void run(Consumer<Handle> test);

        /** Statement exceptions rendered as the store renders them: without SQL or arguments. */
        private static Jdbi jdbi(Jdbi jdbi) {
            jdbi.getConfig(StatementExceptions.class).setMessageRendering(StatementExceptions.MessageRendering.NONE);
            return jdbi;
        }
    }

    private static void insertConversation(Handle h, String id) {
        h.createUpdate("INSERT INTO parley_conversation (id, organization_id, workspace_id, owner_id, personality, "
                        + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at) "
                        + "VALUES (:id, 'org', 'ws', 'alice', :secret, 0, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)")
                .bind("id", id)
                .bind("secret", SECRET)
                .execute();
    }

    private static JdbiException failureOf(Runnable statement) {
        return catchThrowableOfType(JdbiException.class, statement::run);
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aDuplicateKeyIsAUniqueViolationOnly(Database database) {
        database.run(h -> {
            insertConversation(h, "c-1");

            JdbiException e = failureOf(() -> insertConversation(h, "c-1"));

            assertThat(SqlErrors.isUniqueViolation(e)).isTrue();
            assertThat(SqlErrors.isForeignKeyViolation(e)).isFalse();
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aMissingParentIsAForeignKeyViolationOnly(Database database) {
        database.run(h -> {
            JdbiException e = failureOf(() -> h.createUpdate("INSERT INTO parley_stream_lock (conversation_id, "
                            + "holder, expires_at, cancel_requested) VALUES (:c, :holder, CURRENT_TIMESTAMP, FALSE)")
                    .bind("c", "no-such-conversation")
                    .bind("holder", SECRET)
                    .execute());

            assertThat(SqlErrors.isForeignKeyViolation(e)).isTrue();
            assertThat(SqlErrors.isUniqueViolation(e)).isFalse();
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void unrelatedErrorsAreNeither(Database database) {
        database.run(h -> {
            // Another integrity violation (NOT NULL, SQLState 23502), and an error outside class 23.
            JdbiException missingColumn = failureOf(() -> h.createUpdate("INSERT INTO parley_conversation (id) "
                    + "VALUES (:id)").bind("id", "c-2").execute());
            JdbiException noSuchTable = failureOf(() -> h.createQuery("SELECT 1 FROM parley_no_such_table")
                    .mapTo(Integer.class).list());

            for (JdbiException e : new JdbiException[] {missingColumn, noSuchTable}) {
                assertThat(SqlErrors.isUniqueViolation(e)).as(e.toString()).isFalse();
                assertThat(SqlErrors.isForeignKeyViolation(e)).as(e.toString()).isFalse();
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aTranslatedFailureKeepsItsCauseAndClassificationAndNamesNoArgument(Database database) {
        database.run(h -> {
            insertConversation(h, "c-1");
            JdbiException e = failureOf(() -> insertConversation(h, "c-1"));

            ParleyException translated = SqlErrors.translate("store a conversation", e);

            assertThat(translated).isInstanceOf(StoreFailureException.class)
                    .hasMessage("the store could not store a conversation")
                    .hasCause(e);
            assertThat(SqlErrors.isUniqueViolation(translated)).isTrue();
            for (Throwable t = translated; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).doesNotContain(SECRET);
            }
        });
    }

    @ParameterizedTest
    @EnumSource(Database.class)
    void aTypedTranslationAppliesToTheDatabaseFailuresItNames(Database database) {
        database.run(h -> {
            insertConversation(h, "c-1");
            JdbiException duplicate = failureOf(() -> insertConversation(h, "c-1"));
            JdbiException noSuchTable = failureOf(() -> h.createQuery("SELECT 1 FROM parley_no_such_table")
                    .mapTo(Integer.class).list());

            ConversationLockedException locked = new ConversationLockedException("c-1", "stored by another turn");
            assertThat(SqlErrors.translate("store a turn", duplicate, x -> SqlErrors.isUniqueViolation(x) ? locked : null))
                    .isSameAs(locked);
            assertThat(SqlErrors.translate("store a turn", noSuchTable, x -> SqlErrors.isUniqueViolation(x) ? locked : null))
                    .isInstanceOf(StoreFailureException.class)
                    .hasCause(noSuchTable);
        });
    }

    @Test
    void aTypedErrorPassesThroughAndAnythingElseIsAStoreFailure() {
        ConversationNotFoundException notFound = new ConversationNotFoundException("c-1");
        IllegalStateException unreadable = new IllegalStateException("column status holds 'X'");

        assertThat(SqlErrors.translate("read a conversation", notFound)).isSameAs(notFound);
        assertThat(SqlErrors.translate("read messages", unreadable))
                .isInstanceOf(StoreFailureException.class)
                .hasMessage("the store could not read messages")
                .hasCause(unreadable);
        assertThat(SqlErrors.isUniqueViolation(unreadable)).isFalse();
        assertThat(SqlErrors.isForeignKeyViolation(unreadable)).isFalse();
    }
}
