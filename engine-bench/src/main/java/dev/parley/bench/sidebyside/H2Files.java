package dev.parley.bench.sidebyside;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The H2 file every implementation runs on, with the settings Parley's own H2 file store uses. */
final class H2Files {
    /** What {@code JdbcConversationStore.h2File} sets: each commit written to the file before it returns. */
    static final String SETTINGS = ";WRITE_DELAY=0;LOCK_TIMEOUT=10000";

    private H2Files() {
    }

    static String url(Path file) {
        return "jdbc:h2:file:" + file.toAbsolutePath() + SETTINGS;
    }

    static Connection connect(Path file) throws SQLException {
        return DriverManager.getConnection(url(file), "sa", "");
    }

    /** A pool as a Spring Boot application gets by default (HikariCP, ten connections). */
    static HikariDataSource pool(Path file) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url(file));
        config.setUsername("sa");
        config.setPassword("");
        config.setMaximumPoolSize(10);
        return new HikariDataSource(config);
    }

    /**
     * Sets the database's write delay (a database-wide setting, so it applies to every open connection): filling
     * history before the measurement need not wait for each commit to reach the file.
     */
    static void writeDelay(Path file, int millis) throws SQLException {
        try (Connection c = connect(file); Statement s = c.createStatement()) {
            s.execute("SET WRITE_DELAY " + millis);
        }
    }

    /**
     * The bytes the database's data take: the file after H2 has compacted it, so that space its copy-on-write
     * store has not yet reclaimed is not counted. Call after the memory closed its connections.
     */
    static long compactedBytes(Path file) throws SQLException, java.io.IOException {
        try (Connection c = connect(file); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN COMPACT");
        }
        return java.nio.file.Files.size(file.resolveSibling(file.getFileName() + ".mv.db"));
    }

    /** Starts H2's per-statement execution counts (database wide), from zero. */
    static void countStatements(Path file) throws SQLException {
        try (Connection c = connect(file); Statement s = c.createStatement()) {
            s.execute("SET QUERY_STATISTICS_MAX_ENTRIES 1000");
            s.execute("SET QUERY_STATISTICS FALSE");
            s.execute("SET QUERY_STATISTICS TRUE");
        }
    }

    /**
     * Statements executed since {@link #countStatements}, as H2 counted them (this read excluded), by statement
     * text, most executed first.
     */
    static java.util.Map<String, Long> statementsExecuted(Path file) throws SQLException {
        java.util.Map<String, Long> counts = new java.util.LinkedHashMap<>();
        try (Connection c = connect(file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT SQL_STATEMENT, EXECUTION_COUNT FROM INFORMATION_SCHEMA.QUERY_STATISTICS "
                     + "ORDER BY EXECUTION_COUNT DESC")) {
            while (rs.next()) {
                if (!rs.getString(1).contains("QUERY_STATISTICS")) {
                    counts.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return counts;
    }

    static long count(Path file, String sql) throws SQLException {
        try (Connection c = connect(file); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
