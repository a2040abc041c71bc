package dev.parley.samples.server;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationQuery;
import dev.parley.api.ErrorCode;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.RateLimitedException;
import dev.parley.api.spi.ModelProvider;
import dev.parley.samples.server.config.ServerConfig;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP server: one {@link ConversationEngine} built from a {@link ServerConfig}, served by Javalin on Jetty.
 * Every engine error code is answered with one status ({@link ErrorStatus}); requests the HTTP layer refuses (no
 * credentials, a body that is not the JSON an endpoint takes, a body over {@link #MAX_BODY_BYTES}) get a 4xx naming
 * the field; an unexpected failure is logged and answered 500 without details. Each request is logged with method,
 * path, status and time, never its body or query string (which can carry API keys). Thread safe.
 *
 * <pre>{@code
 * try (ParleyServer server = ParleyServer.start(config, ParleyServer.Settings.defaults())) {
 *     server.awaitStop();
 * }
 * }</pre>
 */
public final class ParleyServer implements AutoCloseable {
    /** The largest request body taken: room for a prompt of the engine's largest size, JSON-escaped. */
    public static final long MAX_BODY_BYTES = 8L << 20;

    private static final Logger LOG = LoggerFactory.getLogger(ParleyServer.class);
    private static final Logger REQUESTS = LoggerFactory.getLogger("dev.parley.samples.server.requests");

    private final SampleEngine sample;
    private final ConversationEngine engine;
    private final ActiveStreams streams;
    private final Javalin app;
    private final int port;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Object stopped = new Object();

    /**
     * Where the server listens and keeps its data.
     *
     * @param host the address to listen on
     * @param port the port to listen on; 0 picks a free one
     * @param dataDir where the H2 store's file is kept, unless {@code PARLEY_JDBC_URL} names a PostgreSQL store
     * @param environment the environment variables ({@code PARLEY_JDBC_URL}, {@code PARLEY_JDBC_USER},
     *                    {@code PARLEY_JDBC_PASSWORD}); a lookup that returns null when unset
     * @param models providers that serve the configured models of these names instead of the configured provider
     *               (their scope and price kept): how a host brings a model of its own, or a test a scripted one
     * @param maxStreams how many event streams the server sends at once, of every caller (more get 503)
     * @param maxStreamsPerCaller how many event streams one user has at once (more get 429)
     * @param demoSignIn whether the browser page's sign-in lists the configuration's users with their bearer tokens:
     *                   only for the built-in demo configuration, whose tokens are published anyway
     */
    public record Settings(String host, int port, Path dataDir, Function<String, String> environment,
                           Map<String, ModelProvider> models, int maxStreams, int maxStreamsPerCaller,
                           boolean demoSignIn) {
        public Settings {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(environment, "environment");
            models = Map.copyOf(Objects.requireNonNull(models, "models"));
            if (port < 0 || port > 65_535) {
                throw new IllegalArgumentException("port must be between 0 and 65535, was " + port);
            }
            new ActiveStreams.Limits(maxStreams, maxStreamsPerCaller); // checks them
        }

        /** Settings whose page lists no users. */
        public Settings(String host, int port, Path dataDir, Function<String, String> environment,
                        Map<String, ModelProvider> models, int maxStreams, int maxStreamsPerCaller) {
            this(host, port, dataDir, environment, models, maxStreams, maxStreamsPerCaller, false);
        }

        /** Settings with the default stream limits (64 streams, 4 per user). */
        public Settings(String host, int port, Path dataDir, Function<String, String> environment,
                        Map<String, ModelProvider> models) {
            this(host, port, dataDir, environment, models, ActiveStreams.Limits.DEFAULT.total(),
                    ActiveStreams.Limits.DEFAULT.perCaller());
        }

        /** Settings whose models are all served by their configured providers. */
        public Settings(String host, int port, Path dataDir, Function<String, String> environment) {
            this(host, port, dataDir, environment, Map.of());
        }

        /** These settings with other stream limits. */
        public Settings withStreamLimits(int total, int perCaller) {
            return new Settings(host, port, dataDir, environment, models, total, perCaller, demoSignIn);
        }

        ActiveStreams.Limits streamLimits() {
            return new ActiveStreams.Limits(maxStreams, maxStreamsPerCaller);
        }

        /** Port 8080 on the loopback address, data in {@code ./data}, this process's environment. */
        public static Settings defaults() {
            return new Settings("127.0.0.1", 8080, Path.of("data"), System::getenv);
        }

        /** These settings with the model {@code name} served by {@code provider}. */
        public Settings withModel(String name, ModelProvider provider) {
            Map<String, ModelProvider> more = new HashMap<>(models);
            more.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(provider, "provider"));
            return new Settings(host, port, dataDir, environment, more, maxStreams, maxStreamsPerCaller,
                    demoSignIn);
        }

        /** These settings with the browser page listing the users and their tokens, for the demo configuration. */
        public Settings withDemoSignIn() {
            return new Settings(host, port, dataDir, environment, models, maxStreams, maxStreamsPerCaller, true);
        }
    }

    private ParleyServer(SampleEngine sample, ActiveStreams streams, Javalin app) {
        this.sample = sample;
        this.engine = sample.engine();
        this.streams = streams;
        this.app = app;
        this.port = app.port();
    }

    /** Builds the engine of {@code config} and starts serving it. */
    public static ParleyServer start(ServerConfig config, Settings settings) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(settings, "settings");
        SampleEngine sample = SampleEngine.open(config, settings.dataDir(), settings.environment(), settings.models());
        ConversationEngine engine = sample.engine();
        try {
            Authenticator authenticator = new Authenticator(config.users());
            RepositoryApi repositoryApi = new RepositoryApi(engine, authenticator);
            ActiveStreams streams = new ActiveStreams(settings.streamLimits());
            WorkspaceApi workspaceApi = new WorkspaceApi(engine, authenticator, config, streams);
            AssistantApi assistantApi = new AssistantApi(engine, authenticator,
                    new AssistantConversations(sample.dataSource()), config, streams);
            WebUi webUi = new WebUi(config, authenticator, settings.demoSignIn());
            byte[] openApi = Json.bytes(OpenApi.document());
            String probeUser = "health-probe";
            String probeOrg = Objects.requireNonNull(config.organizations().get(0).id());
            Javalin app = Javalin.create(c -> {
                c.startup.showJavalinBanner = false;
                c.http.maxRequestSize = MAX_BODY_BYTES;
                c.http.prefer405over404 = true;
                c.jetty.host = settings.host();
                c.jetty.port = settings.port();
                c.jetty.modifyServer(server -> {
                    server.setStopTimeout(10_000);
                    server.setErrorHandler(new JettyErrors());
                });
                c.requestLogger.http((ctx, ms) -> REQUESTS.info("{} {} {} {} ms", ctx.method(), ctx.path(),
                        ctx.statusCode(), Math.round(ms)));
                c.routes.get("/health", ctx -> health(ctx, engine, Caller.user(probeUser, probeOrg).build()));
                c.routes.get(OpenApi.PATH, ctx -> ctx.status(200).contentType("application/json").result(openApi));
                repositoryApi.register(c.routes);
                workspaceApi.register(c.routes);
                assistantApi.register(c.routes);
                webUi.register(c.routes);
                c.routes.exception(ApiException.class, (e, ctx) -> {
                if (e.status() == 429 || e.status() == 503) {
                    ctx.header("Retry-After", Integer.toString(ActiveStreams.RETRY_AFTER_SECONDS));
                }
                error(ctx, e.status(), null, e.getMessage());
            });
                c.routes.exception(ParleyException.class, ParleyServer::engineError);
                c.routes.exception(HttpResponseException.class, ParleyServer::httpError);
                c.routes.exception(Exception.class, ParleyServer::unexpected);
            });
            app.start();
            LOG.info("listening on http://{}:{}", settings.host(), app.port());
            return new ParleyServer(sample, streams, app);
        } catch (RuntimeException | Error e) {
            sample.close();
            throw e;
        }
    }

    /** The port the server listens on (or listened on, once closed). */
    public int port() {
        return port;
    }

    /** The routes the server registered, each as its method and path ({@code "POST /conversation"}). */
    List<String> routes() {
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .filter(e -> e.endpoint.method.isHttpMethod())
                .map(e -> e.endpoint.method.name() + " " + e.endpoint.path)
                .toList();
    }

    /** The engine the server runs on: for tests that look behind the HTTP answers. */
    ConversationEngine engine() {
        return engine;
    }

    /** Waits until {@link #close()} has stopped the server. */
    public void awaitStop() throws InterruptedException {
        synchronized (stopped) {
            while (!closed.get()) {
                stopped.wait();
            }
        }
    }

    /**
     * Cancels the streams this server is sending (their partial replies kept, their clients told with a final event),
     * stops taking requests, lets those in progress finish (up to 10 seconds), then closes the engine, which cancels
     * any stream left and closes the store, and last the database pool. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        LOG.info("stopping");
        try {
            streams.cancelAll();
            app.stop();
        } finally {
            sample.close();
            synchronized (stopped) {
                stopped.notifyAll();
            }
            LOG.info("stopped");
        }
    }

    /** 200 when the store answers a read, else 503. */
    private static void health(Context ctx, ConversationEngine engine, Caller probe) {
        try {
            engine.as(probe).list(ConversationQuery.all(PageRequest.of(1, 1)));
            RepositoryApi.respond(ctx, 200, Json.object("status", "UP"));
        } catch (ParleyException | IllegalStateException e) {
            LOG.warn("health check failed: {}", e.toString());
            RepositoryApi.respond(ctx, 503, Json.object("status", "DOWN"));
        }
    }

    private static void engineError(ParleyException e, Context ctx) {
        if (e instanceof RateLimitedException limited) {
            long seconds = Math.max(1, (limited.retryAfter().toMillis() + 999) / 1000);
            ctx.header("Retry-After", Long.toString(seconds));
        }
        error(ctx, ErrorStatus.of(e.code()), e.code(), Objects.requireNonNullElse(e.getMessage(), e.code().name()));
    }

    private static void httpError(HttpResponseException e, Context ctx) {
        String message = switch (e.getStatus()) {
            case 404 -> "no such endpoint: " + ctx.method() + " " + ctx.path();
            case 405 -> "method not allowed: " + ctx.method() + " " + ctx.path();
            case 413 -> "body: must be at most " + MAX_BODY_BYTES + " bytes";
            default -> Objects.requireNonNullElse(e.getMessage(), "request refused");
        };
        error(ctx, e.getStatus(), null, message);
    }

    private static void unexpected(Exception e, Context ctx) {
        if (e instanceof IllegalStateException && String.valueOf(e.getMessage()).contains("closed")) {
            error(ctx, 503, null, "the server is shutting down");
            return;
        }
        LOG.error("unexpected failure of {} {}", ctx.method(), ctx.path(), e);
        error(ctx, 500, null, "internal error");
    }

    /**
     * An error in the shape of the API the request was for: {@code {code, message}} on the workspace-style API,
     * {@code {success: false, message}} on the others.
     *
     * @param code the engine's code, or null for a refusal of the HTTP layer (its code follows from the status)
     */
    private static void error(Context ctx, int status, @Nullable ErrorCode code, String message) {
        if (WorkspaceApi.serves(ctx.path())) {
            WorkspaceApi.error(ctx, status, code, message);
        } else {
            RepositoryApi.respond(ctx, status, Json.object("success", false, "message", message));
        }
    }
}
