package dev.parley.samples.server;

import dev.parley.api.Caller;
import dev.parley.api.WorkspaceRole;
import dev.parley.samples.server.config.ServerConfig;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The browser chat page and the two small endpoints it reads:
 *
 * <ul>
 *   <li>{@code GET /} is the page and {@code GET /web/{file}} its script and style sheet, read once from the class path
 *       ({@value #RESOURCES}); any other file is 404. Each is sent with its content type and a strict
 *       {@value #CSP}: scripts and styles from this server only, nothing inline, nothing framed.</li>
 *   <li>{@code GET /ui/config} needs no credentials and tells the configured model names and the default one; with
 *       demo sign-in ({@link ParleyServer.Settings#demoSignIn()}, which {@code serve} turns on only for the built-in
 *       demo configuration) also the users with their bearer tokens, so that a person can sign in with a click.
 *       Without it no token is ever in it.</li>
 *   <li>{@code GET /ui/session} answers for a bearer token the user it names and the workspaces it has a claim on (a
 *       role in them, or organization admin of their organization), each with its name and the user's role; 401
 *       when the token is missing or unknown.</li>
 * </ul>
 * The page itself speaks only the workspace-style API. Immutable and thread safe.
 */
final class WebUi {
    /** The page's Content-Security-Policy. */
    static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    /** Where the page's files are on the class path. */
    static final String RESOURCES = "/dev/parley/samples/server/web/";
    /** The path of the public configuration endpoint. */
    static final String CONFIG_PATH = "/ui/config";
    /** The path of the signed-in user's endpoint. */
    static final String SESSION_PATH = "/ui/session";
    /** The path of the page's other files. */
    static final String FILE_PATH = "/web/{file}";

    /** The files served under {@code /web/}, by name, with their content types. */
    private static final Map<String, String> FILES = Map.of(
            "app.js", "text/javascript; charset=utf-8",
            "markdown.js", "text/javascript; charset=utf-8",
            "app.css", "text/css; charset=utf-8");

    /** A file's bytes and content type. */
    private record File(byte[] bytes, String contentType) {
    }

    private final File index;
    private final Map<String, File> files = new LinkedHashMap<>();
    private final Authenticator authenticator;
    private final byte[] publicConfig;
    private final List<ServerConfig.Workspace> workspaces;

    /**
     * The page of {@code config}.
     *
     * @param demoSignIn whether {@code /ui/config} lists the users with their tokens: only for the built-in demo
     *                   configuration, whose tokens are published anyway
     */
    WebUi(ServerConfig config, Authenticator authenticator, boolean demoSignIn) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.index = new File(read("index.html"), "text/html; charset=utf-8");
        FILES.forEach((name, type) -> files.put(name, new File(read(name), type)));
        this.workspaces = config.workspaces();
        this.publicConfig = Json.bytes(publicConfig(config, demoSignIn));
    }

    /** Adds the page's routes. */
    void register(RoutesConfig routes) {
        routes.get("/", ctx -> send(ctx, index));
        routes.get(FILE_PATH, this::file);
        routes.get(CONFIG_PATH, ctx -> {
            ctx.header("Cache-Control", "no-store");
            ctx.status(200).contentType("application/json").result(publicConfig);
        });
        routes.get(SESSION_PATH, this::session);
    }

    private void file(Context ctx) {
        File file = files.get(ctx.pathParam("file"));
        if (file == null) {
            throw new ApiException(404, "no such file: " + ctx.path());
        }
        send(ctx, file);
    }

    private static void send(Context ctx, File file) {
        ctx.header("Content-Security-Policy", CSP);
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cache-Control", "no-cache");
        ctx.status(200).contentType(file.contentType()).result(file.bytes());
    }

    private void session(Context ctx) {
        Caller caller = authenticator.bearer(ctx.header("Authorization"));
        List<Map<String, @Nullable Object>> claimed = new ArrayList<>();
        for (ServerConfig.Workspace ws : workspaces) {
            String id = Objects.requireNonNull(ws.id());
            if (caller.organizationId().equals(ws.organizationId()) && caller.canUseWorkspace(id)) {
                String role = caller.roleIn(id).map(r -> r == WorkspaceRole.ADMIN ? "admin" : "member")
                        .orElse("organizationAdmin");
                claimed.add(Json.object("id", id, "name", ws.name() == null ? id : ws.name(), "role", role));
            }
        }
        ctx.header("Cache-Control", "no-store");
        RepositoryApi.respond(ctx, 200, Json.object("userId", caller.userId(),
                "organizationId", caller.organizationId(), "organizationAdmin", caller.organizationAdmin(),
                "workspaces", claimed));
    }

    private static Map<String, @Nullable Object> publicConfig(ServerConfig config, boolean demoSignIn) {
        List<String> models = config.models().stream().map(m -> Objects.requireNonNull(m.name())).toList();
        String defaultModel = config.defaultModel() != null ? config.defaultModel()
                : config.models().stream().filter(m -> m.scope() == null).map(ServerConfig.Model::name)
                .findFirst().orElse(null);
        List<Map<String, @Nullable Object>> users = new ArrayList<>();
        if (demoSignIn) {
            for (ServerConfig.User user : config.users()) {
                String role = Boolean.TRUE.equals(user.organizationAdmin()) ? "organization admin"
                        : String.join(", ", user.workspaces().entrySet().stream()
                        .map(e -> e.getValue() + " of " + e.getKey()).toList());
                users.add(Json.object("id", user.id(), "role", role, "token", user.token()));
            }
        }
        return Json.object("demo", demoSignIn, "models", models, "defaultModel", defaultModel, "demoUsers", users);
    }

    private static byte[] read(String name) {
        try (InputStream in = WebUi.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("the page's file " + name + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
