package dev.parley.store.jdbc.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.parley.api.StoreFailureException;
import org.jspecify.annotations.Nullable;

import java.nio.file.Path;

/** The connection pools the store opens (HikariCP) and the H2 URLs it builds. Not API. Stateless. */
public final class StorePools {
    /**
     * H2 keeps 8 parsed statements per connection by default, fewer than a stream's turn runs: with more, and a
     * host's own SQL on the same pool, every statement of a turn was parsed again. 64 holds all of Parley's
     * statements and room for a host's.
     */
    static final String QUERY_CACHE = ";QUERY_CACHE_SIZE=64";
    /**
     * The settings of the H2 file URLs the store builds. {@code WRITE_DELAY=0}: H2 writes each commit to the file
     * before the commit returns, instead of up to 500 ms later from a background thread, so an acknowledged turn
     * is in the operating system's hands when the JVM dies. {@code DB_CLOSE_ON_EXIT=FALSE}: H2 does not close the
     * database from a shutdown hook of its own, which would race the host's (an engine closed on SIGTERM could no
     * longer store the partial replies of the streams it cancels); the store closes it when it is closed, and a
     * database left open at exit loses nothing, as every commit is written. {@link #QUERY_CACHE}: the parsed
     * statements each connection keeps.
     */
    public static final String H2_FILE_SETTINGS = ";WRITE_DELAY=0;LOCK_TIMEOUT=10000;DB_CLOSE_ON_EXIT=FALSE"
            + QUERY_CACHE;
    /** The settings of the in-memory H2 URLs the store builds: the database lives until the JVM exits. */
    public static final String H2_MEMORY_SETTINGS = ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000" + QUERY_CACHE;

    private StorePools() {
    }

    /**
     * The URL of an H2 database file at {@code path}, with {@link #H2_FILE_SETTINGS}.
     *
     * @throws IllegalArgumentException when the path contains {@code ;}
     */
    public static String h2FileUrl(Path path) {
        return "jdbc:h2:file:" + h2Name("path", path.toAbsolutePath().toString()) + H2_FILE_SETTINGS;
    }

    /**
     * The URL of a named in-memory H2 database, with {@link #H2_MEMORY_SETTINGS}.
     *
     * @throws IllegalArgumentException when the name is empty or contains {@code ;}
     */
    public static String h2MemoryUrl(String name) {
        return "jdbc:h2:mem:" + h2Name("name", name) + H2_MEMORY_SETTINGS;
    }

    /**
     * The database part of an H2 URL, refused when H2 would read more into it than a name: a {@code ;}
     * starts H2's connection settings (a path such as {@code "x;INIT=RUNSCRIPT FROM '...'"} would run SQL).
     */
    private static String h2Name(String parameter, String value) {
        if (value.isEmpty()) {
            throw new IllegalArgumentException(parameter + " must not be empty");
        }
        if (value.indexOf(';') >= 0) {
            throw new IllegalArgumentException(parameter + " must not contain ';' (H2 reads what follows as "
                    + "connection settings): " + value);
        }
        return value;
    }

    /**
     * A pool of {@code size} connections on {@code jdbcUrl}, which the caller owns and closes. On PostgreSQL the
     * driver is told to leave row values out of its exception messages.
     *
     * @throws StoreFailureException when the pool cannot be opened (the database cannot be reached)
     */
    public static HikariDataSource open(String jdbcUrl, @Nullable String user, @Nullable String password, int size) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(size);
        config.setPoolName("parley");
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            // Keep row values out of the driver's exception messages ("Failing row contains ..."), so that
            // user text cannot reach logs through a StoreFailureException's cause.
            config.addDataSourceProperty("logServerErrorDetail", "false");
        }
        try {
            return new HikariDataSource(config);
        } catch (RuntimeException e) {
            throw new StoreFailureException("could not connect to the conversation store database", e);
        }
    }
}
