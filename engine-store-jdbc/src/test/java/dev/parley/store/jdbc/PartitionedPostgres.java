package dev.parley.store.jdbc;

import org.flywaydb.core.Flyway;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

/**
 * The partitioned variant of the schema, on a database of its own beside the PostgreSQL test database: the
 * production migrations, then {@code migration-partitioned/V1000__hash_partition_by_conversation.sql}, which
 * declares every table keyed by conversation {@code PARTITION BY HASH} of the conversation id in
 * {@value #PARTITIONS} partitions. The database is made afresh once per test JVM; a store opened on it runs the
 * production migrations as any store does, finds them applied, and ignores the variant's newer version.
 */
public final class PartitionedPostgres {
    /** The database the variant lives in, on the PostgreSQL test server. */
    static final String DATABASE = "parley_partitioned";
    /** Partitions of each partitioned table. */
    static final int PARTITIONS = 8;
    /** The tables the variant partitions by conversation id ({@code parley_conversation} by its id). */
    static final List<String> TABLES = List.of("parley_conversation", "parley_message", "parley_turn",
            "parley_event", "parley_stream_lock", "parley_violation", "parley_usage_day");
    /** Where the store's migrations are, and its history table: as the store's Flyway run has them. */
    private static final String PRODUCTION = "classpath:dev/parley/store/jdbc/migration";
    private static final String VARIANT = "classpath:dev/parley/store/jdbc/migration-partitioned";
    private static final String HISTORY_TABLE = "parley_schema_history";

    private static String url;

    private PartitionedPostgres() {
    }

    /** The partitioned database's URL; made and migrated on the first call in this JVM. */
    public static synchronized String url() {
        if (url == null) {
            String base = TestDatabases.postgresUrl();
            try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + DATABASE + " WITH (FORCE)");
                s.execute("CREATE DATABASE " + DATABASE);
            } catch (SQLException e) {
                throw new IllegalStateException("could not make the partitioned test database", e);
            }
            String partitioned = base.replaceFirst("/parley\\?", "/" + DATABASE + "?");
            if (partitioned.equals(base)) {
                throw new IllegalStateException("the PostgreSQL test URL names no database 'parley': " + base);
            }
            Flyway.configure()
                    .dataSource(partitioned, null, null)
                    .locations(PRODUCTION, VARIANT)
                    .placeholders(Map.of("day", "day"))
                    .table(HISTORY_TABLE)
                    .baselineOnMigrate(true)
                    .baselineVersion("0")
                    .load()
                    .migrate();
            url = partitioned;
        }
        return url;
    }

    /** A store on the partitioned database, its tables emptied first, as {@link TestDatabases#postgres()}. */
    public static JdbcConversationStore store() {
        return TestDatabases.emptied(url());
    }

    /** Another store on the same data, not emptied: a second engine's. */
    public static JdbcConversationStore sameData() {
        return JdbcConversationStore.of(url(), null, null);
    }
}
