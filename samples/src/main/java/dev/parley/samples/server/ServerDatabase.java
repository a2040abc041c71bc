package dev.parley.samples.server;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.StoreFailureException;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

import javax.sql.DataSource;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one database the server keeps everything in: the engine's store and the server's own table of assistant-style
 * conversation ids ({@link AssistantConversations}) share its connection pool, so that both live in one H2 file, or
 * in one PostgreSQL database that several server instances share. An H2 file is opened as
 * {@link dev.parley.store.jdbc.JdbcConversationStore#h2File} opens its own: every commit written to the file before it
 * returns ({@code WRITE_DELAY=0}), 64 parsed statements kept per connection. On PostgreSQL the driver leaves row
 * values out of its messages. The server owns the pool and closes it after the engine. Thread safe.
 */
final class ServerDatabase implements AutoCloseable {
    /** Environment variable of a PostgreSQL JDBC URL; with it the server shares its store with other instances. */
    static final String JDBC_URL = "PARLEY_JDBC_URL";
    static final String JDBC_USER = "PARLEY_JDBC_USER";
    static final String JDBC_PASSWORD = "PARLEY_JDBC_PASSWORD";

    private static final Logger LOG = LoggerFactory.getLogger(ServerDatabase.class);
    /**
     * The store's H2 file settings: every commit written before it returns, and no shutdown hook of H2's own, which
     * would close the database before the server's hook stores the partial replies of the streams it cancels.
     */
    private static final String H2_SETTINGS = ";WRITE_DELAY=0;LOCK_TIMEOUT=10000;DB_CLOSE_ON_EXIT=FALSE;QUERY_CACHE_SIZE=64";
    private static final int POOL_SIZE = 10;
    private static final long CONNECTION_TIMEOUT_MILLIS = 5_000;

    private final HikariDataSource pool;

    private ServerDatabase(HikariDataSource pool) {
        this.pool = pool;
    }

    /**
     * The PostgreSQL database {@code PARLEY_JDBC_URL} names, else the H2 file {@code parley.mv.db} under
     * {@code dataDir}.
     *
     * @throws StoreFailureException when the database cannot be reached
     * @throws IllegalArgumentException when the data directory's path contains {@code ;}, which H2 would read as
     *                                  connection settings
     */
    static ServerDatabase open(Path dataDir, Function<String, String> environment) {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(environment, "environment");
        HikariConfig config = new HikariConfig();
        config.setMaximumPoolSize(POOL_SIZE);
        // A request waits at most this long for a connection, then gets 503 (STORE_FAILURE), rather than Hikari's
        // default 30 s, longer than most clients wait.
        config.setConnectionTimeout(CONNECTION_TIMEOUT_MILLIS);
        config.setPoolName("parley-server");
        String url = environment.apply(JDBC_URL);
        if (url != null && !url.isBlank()) {
            config.setJdbcUrl(url);
            String user = environment.apply(JDBC_USER);
            String password = environment.apply(JDBC_PASSWORD);
            config.setUsername(user == null ? "" : user);
            config.setPassword(password == null ? "" : password);
            if (url.startsWith("jdbc:postgresql:")) {
                config.addDataSourceProperty("logServerErrorDetail", "false");
            }
            LOG.info("store: {} (from {})", url.replaceAll("password=[^&;]*", "password=***"), JDBC_URL);
        } else {
            Path file = dataDir.resolve("parley").toAbsolutePath();
            if (file.toString().indexOf(';') >= 0) {
                throw new IllegalArgumentException("the data directory's path must not contain ';': " + dataDir);
            }
            config.setJdbcUrl("jdbc:h2:file:" + file + H2_SETTINGS);
            config.setUsername("sa");
            config.setPassword("");
            LOG.info("store: H2 file {}.mv.db", file);
        }
        try {
            return new ServerDatabase(new HikariDataSource(config));
        } catch (RuntimeException e) {
            throw new StoreFailureException("could not connect to the server's database", e);
        }
    }

    /** The pooled data source. */
    DataSource dataSource() {
        return pool;
    }

    /** Closes the pool. */
    @Override
    public void close() {
        pool.close();
    }
}
