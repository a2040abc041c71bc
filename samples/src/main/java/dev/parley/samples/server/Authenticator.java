package dev.parley.samples.server;

import dev.parley.api.Caller;
import dev.parley.samples.server.config.ServerConfig;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Turns the credentials of a request into the {@link Caller} the engine acts for: a bearer token
 * ({@code Authorization: Bearer ...}) or an API key, as the configuration gives them to its users. This is where a
 * host would plug its own authentication; Parley only needs the caller. Immutable and thread safe.
 */
public final class Authenticator {
    private final Map<String, Caller> byToken = new HashMap<>();
    private final Map<String, Caller> byApiKey = new HashMap<>();

    /** An authenticator for the users of a checked configuration. */
    public Authenticator(List<ServerConfig.User> users) {
        for (ServerConfig.User user : users) {
            Caller caller = caller(user);
            byToken.put(Objects.requireNonNull(user.token(), "token"), caller);
            if (user.apiKey() != null) {
                byApiKey.put(user.apiKey(), caller);
            }
        }
    }

    /** The caller a configured user is: their organization, and their role in each workspace or the organization. */
    public static Caller caller(ServerConfig.User user) {
        Objects.requireNonNull(user, "user");
        Caller.Builder b = Caller.user(Objects.requireNonNull(user.id(), "id"),
                Objects.requireNonNull(user.organizationId(), "organizationId"));
        if (Boolean.TRUE.equals(user.organizationAdmin())) {
            b.organizationAdmin();
        }
        user.workspaces().forEach((ws, role) -> {
            if ("admin".equals(role)) {
                b.admin(ws);
            } else {
                b.member(ws);
            }
        });
        return b.build();
    }

    /**
     * The caller of an {@code Authorization} header's bearer token.
     *
     * @throws ApiException 401 when the header is missing, is no bearer token, or no user has the token
     */
    public Caller bearer(@Nullable String authorization) {
        if (authorization == null || authorization.isBlank()) {
            throw ApiException.unauthorized("missing bearer token: send Authorization: Bearer <token>");
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw ApiException.unauthorized("Authorization must be a bearer token");
        }
        return find(byToken, authorization.substring(7).strip())
                .orElseThrow(() -> ApiException.unauthorized("unknown bearer token"));
    }

    /**
     * The caller of an API key.
     *
     * @throws ApiException 401 when the key is missing or no user has it
     */
    public Caller apiKey(@Nullable String key) {
        if (key == null || key.isBlank()) {
            throw ApiException.unauthorized("missing api_key");
        }
        return find(byApiKey, key).orElseThrow(() -> ApiException.unauthorized("unknown api_key"));
    }

    /** Looks a secret up comparing every candidate in constant time, so the answer's timing tells nothing. */
    private static Optional<Caller> find(Map<String, Caller> secrets, String presented) {
        byte[] given = presented.getBytes(StandardCharsets.UTF_8);
        Caller found = null;
        for (Map.Entry<String, Caller> e : secrets.entrySet()) {
            if (MessageDigest.isEqual(e.getKey().getBytes(StandardCharsets.UTF_8), given)) {
                found = e.getValue();
            }
        }
        return Optional.ofNullable(found);
    }
}
