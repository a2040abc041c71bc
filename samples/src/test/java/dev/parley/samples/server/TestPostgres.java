package dev.parley.samples.server;

import org.junit.jupiter.api.Assumptions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PostgreSQL database the server's PostgreSQL tests run on, named by {@code PARLEY_TEST_POSTGRES_URL} (set by
 * {@code source .ci/postgres.sh && postgres_start}). Each test gets a schema of its own, so that runs do not see each
 * other's rows, and drops it afterwards.
 */
final class TestPostgres {
    /** Environment variable (or system property) with the JDBC URL of a PostgreSQL database for the tests. */
    static final String POSTGRES_URL = "PARLEY_TEST_POSTGRES_URL";

    private TestPostgres() {
    }

    /**
     * The test database's URL. Without one, a developer's run skips the test, but a CI run ({@code CI=true}) fails
     * it: in CI the PostgreSQL tests must never be skipped silently.
     */
    static String url() {
        String url = System.getProperty(POSTGRES_URL, System.getenv(POSTGRES_URL));
        if (url == null || url.isBlank()) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail(POSTGRES_URL + " is not set: CI must run the PostgreSQL tests (see .ci/postgres.sh)");
            }
            Assumptions.abort(POSTGRES_URL + " is not set: PostgreSQL tests skipped"
                    + " (source .ci/postgres.sh && postgres_start)");
        }
        return url;
    }

    /** A new, empty schema in the test database, named after {@code prefix}. */
    static String createSchema(String prefix) {
        String schema = prefix + "_" + UUID.randomUUID().toString().replace("-", "").toLowerCase(Locale.ROOT);
        execute("CREATE SCHEMA " + schema);
        return schema;
    }

    /** The test database's URL with {@code schema} as the connections' current schema (where the store's tables go). */
    static String urlOf(String schema) {
        String url = url();
        return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    }

    /** Drops {@code schema} and everything in it. */
    static void dropSchema(String schema) {
        execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    private static void execute(String sql) {
        try (Connection c = DriverManager.getConnection(url());
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("could not run on the PostgreSQL test database: " + sql, e);
        }
    }
}
