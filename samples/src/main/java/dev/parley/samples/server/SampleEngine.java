package dev.parley.samples.server;

import dev.parley.api.ConversationEngine;
import dev.parley.api.spi.ModelProvider;
import dev.parley.samples.server.config.ConfigException;
import dev.parley.samples.server.config.ConfigLoader;
import dev.parley.samples.server.config.ServerConfig;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

import javax.sql.DataSource;

import org.jspecify.annotations.Nullable;

/**
 * The engine every sample program runs on, built one way: the configuration file or the built-in demo one (with the
 * {@code openai} model of {@code OPENAI_API_KEY}, {@code OPENAI_BASE_URL} and {@code PARLEY_MODEL} when set), the
 * store on the H2 file under the data directory or the PostgreSQL database of {@code PARLEY_JDBC_URL}, then the
 * configured models, prices, policies, rate limits and credit accounts. {@code serve} and {@code chat} both open it.
 * Closing closes the engine, then the database pool. Thread safe.
 */
public final class SampleEngine implements AutoCloseable {
    private final ServerConfig config;
    private final ServerDatabase database;
    private final ConversationEngine engine;

    private SampleEngine(ServerConfig config, ServerDatabase database, ConversationEngine engine) {
        this.config = config;
        this.database = database;
        this.engine = engine;
    }

    /**
     * The configuration in {@code file}, or the built-in demo configuration when {@code file} is null, each
     * {@code ${NAME}} read from {@code environment}.
     *
     * @throws ConfigException when the file cannot be read or the configuration is invalid, naming each bad field
     */
    public static ServerConfig config(@Nullable Path file, Function<String, String> environment) {
        ConfigLoader loader = new ConfigLoader(Objects.requireNonNull(environment, "environment"));
        return file == null ? loader.demo() : loader.load(file);
    }

    /**
     * Opens the database and builds the engine of {@code config} on it.
     *
     * @param dataDir where the H2 file is kept, unless {@code PARLEY_JDBC_URL} names a PostgreSQL store
     * @param environment the environment variables ({@code PARLEY_JDBC_URL}, {@code PARLEY_JDBC_USER},
     *                    {@code PARLEY_JDBC_PASSWORD}); a lookup that returns null when unset
     * @param models providers that serve the configured models of these names instead of the configured provider
     *               (their scope and price kept)
     * @throws dev.parley.api.StoreFailureException when the database cannot be reached
     */
    public static SampleEngine open(ServerConfig config, Path dataDir, Function<String, String> environment,
                                    Map<String, ModelProvider> models) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(models, "models");
        ServerDatabase database = ServerDatabase.open(dataDir, environment);
        try {
            return new SampleEngine(config, database, EngineSetup.build(config, database, models));
        } catch (RuntimeException | Error e) {
            database.close();
            throw e;
        }
    }

    /** The checked configuration the engine was built from. */
    public ServerConfig config() {
        return config;
    }

    /** The engine. */
    public ConversationEngine engine() {
        return engine;
    }

    /** The pooled data source the engine's store uses, shared with the server's own table. */
    DataSource dataSource() {
        return database.dataSource();
    }

    /** Closes the engine (cancelling any stream left), then the database pool. */
    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            database.close();
        }
    }
}
