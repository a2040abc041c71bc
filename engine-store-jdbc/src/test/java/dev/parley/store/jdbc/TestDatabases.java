package dev.parley.store.jdbc;

import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.fail;

/** The databases the store tests run on. */
public final class TestDatabases {
    /** Environment variable (or system property) with the JDBC URL of a PostgreSQL database for the tests. */
    public static final String POSTGRES_URL = "PARLEY_TEST_POSTGRES_URL";

    private TestDatabases() {
    }

    /**
     * The PostgreSQL test database's URL. Without one, a developer's run skips the PostgreSQL tests, but a CI
     * run ({@code CI=true}) fails them: in CI they must never be skipped silently.
     */
    public static String postgresUrl() {
        String url = System.getProperty(POSTGRES_URL, System.getenv(POSTGRES_URL));
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(POSTGRES_URL + " is not set: CI must run the PostgreSQL tests (see .ci/postgres.sh)");
            }
            Assumptions.abort(POSTGRES_URL + " is not set: PostgreSQL tests skipped (source .ci/postgres.sh && postgres_start)");
        }
        return url;
    }

    /**
     * A store on the PostgreSQL test database, emptied first: tests run one at a time and each starts from empty
     * tables, as it would on a fresh H2 database.
     */
    public static JdbcConversationStore postgres() {
        return emptied(postgresUrl());
    }

    /** A store on the PostgreSQL database at {@code url}, its tables emptied first (as {@link #postgres()}). */
    static JdbcConversationStore emptied(String url) {
        JdbcConversationStore store = JdbcConversationStore.of(url, null, null);
        try (Connection c = DriverManager.getConnection(url);
             Statement s = c.createStatement()) {
            s.execute("TRUNCATE parley_violation, parley_stream_lock, parley_event, parley_turn, parley_message, "
                    + "parley_conversation, parley_policy, parley_credit_hold, parley_credit_ledger, parley_credit_account, "
                    + "parley_credit_price, parley_rate_counter, parley_usage_day, parley_summary, parley_compaction");
            s.execute("UPDATE parley_policy_version SET version = 0 WHERE id = 1"); // as a fresh database has it
        } catch (SQLException e) {
            store.close();
            throw new IllegalStateException("could not empty the PostgreSQL test database", e);
        }
        return store;
    }

    /** A store on a fresh in-memory H2 database. */
    public static JdbcConversationStore h2() {
        return JdbcConversationStore.h2InMemory("test-" + UUID.randomUUID());
    }
}
