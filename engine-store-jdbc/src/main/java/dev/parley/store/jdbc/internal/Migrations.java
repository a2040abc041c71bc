package dev.parley.store.jdbc.internal;

import dev.parley.store.jdbc.JdbcConversationStore;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;

/** Creates and upgrades the store's schema with Flyway when the store opens. Not API. Stateless. */
public final class Migrations {
    /** Logs under the store's name, where a host looks for what the store did to its database. */
    private static final Logger LOG = LoggerFactory.getLogger(JdbcConversationStore.class);
    /** Where the migrations are, on the class path. */
    static final String LOCATION = "classpath:dev/parley/store/jdbc/migration";
    /** Flyway's history table, named so that it lives beside a host's own migrations. */
    static final String HISTORY_TABLE = "parley_schema_history";

    private Migrations() {
    }

    /**
     * Brings the schema behind {@code dataSource} up to date: a database without Parley's tables is taken as
     * version 0, whatever else is in it. The migrations' one placeholder, {@code ${day}}, is the usage table's day
     * column as {@code dialect} spells it ({@link Dialect#day()}).
     */
    public static void migrate(DataSource dataSource, Dialect dialect) {
        var result = Flyway.configure()
                .dataSource(dataSource)
                .locations(LOCATION)
                .placeholders(java.util.Map.of("day", dialect.day()))
                .table(HISTORY_TABLE)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load()
                .migrate();
        if (result.migrationsExecuted > 0) {
            LOG.info("Applied {} schema migration(s); schema is now at version {}", result.migrationsExecuted,
                    result.targetSchemaVersion);
        }
    }
}
