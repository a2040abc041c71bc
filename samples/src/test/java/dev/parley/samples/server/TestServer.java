package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.parley.samples.server.config.ConfigLoader;
import dev.parley.samples.server.config.ServerConfig;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;

import org.jspecify.annotations.Nullable;

/**
 * A server on a free loopback port and a temporary data directory, with an HTTP client to call it; or, made with
 * {@link #client(int)}, only the client of a server that runs in another process.
 */
final class TestServer implements AutoCloseable {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    /** Reads decimals as BigDecimal, so that a test sees every digit the server wrote. */
    private static final ObjectMapper EXACT = new ObjectMapper()
            .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    /** The server, or null for the client of a server in another process. */
    final @Nullable ParleyServer server;
    private final int port;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private TestServer(@Nullable ParleyServer server, int port) {
        this.server = server;
        this.port = port;
    }

    /** A client of the server listening on loopback {@code port} in another process; closing it closes nothing. */
    static TestServer client(int port) {
        return new TestServer(null, port);
    }

    /** A server on {@code config}, with its data under {@code dataDir} and an empty environment. */
    static TestServer start(ServerConfig config, Path dataDir) {
        return started(ParleyServer.start(config, new ParleyServer.Settings("127.0.0.1", 0, dataDir, name -> null)));
    }

    private static TestServer started(ParleyServer server) {
        return new TestServer(server, server.port());
    }

    /** A server on the class-path configuration {@code resource}, its {@code ${NAME}}s read from {@code env}. */
    static TestServer start(String resource, Path dataDir, Map<String, String> env) {
        return start(resource, dataDir, env, UnaryOperator.identity());
    }

    /** A server as {@link #start(String, Path, Map)} does, its settings changed by {@code settings}. */
    static TestServer start(String resource, Path dataDir, Map<String, String> env,
                            UnaryOperator<ParleyServer.Settings> settings) {
        ServerConfig config;
        try (InputStream in = TestServer.class.getResourceAsStream(resource)) {
            config = new ConfigLoader(env::get).parse(resource, in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return started(ParleyServer.start(config,
                settings.apply(new ParleyServer.Settings("127.0.0.1", 0, dataDir, name -> null))));
    }

    /** A loopback URL on which nothing listens: a model there is refused at once. */
    static String closedPortUrl() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    Response get(String path, @Nullable String token) {
        return send(request(path, token).GET());
    }

    Response delete(String path, @Nullable String token) {
        return send(request(path, token).DELETE());
    }

    Response post(String path, @Nullable String token, String json) {
        return post(path, token, json, Map.of());
    }

    Response post(String path, @Nullable String token, String json, Map<String, String> headers) {
        HttpRequest.Builder b = request(path, token).POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
                .header("Content-Type", "application/json");
        headers.forEach(b::header);
        return send(b);
    }

    Response patch(String path, @Nullable String token, String json) {
        return send(request(path, token).method("PATCH", HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
                .header("Content-Type", "application/json"));
    }

    /** Posts {@code json} and returns the response as soon as its head has arrived, its body to be read as it comes. */
    HttpResponse<InputStream> open(String path, @Nullable String token, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path))
                .POST(HttpRequest.BodyPublishers.ofString(json, StandardCharsets.UTF_8))
                .header("Content-Type", "application/json");
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        try {
            return client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Posts raw bytes on a connection of its own: the server closes a connection whose body it refused unread (413),
     * and a pooled connection closed that way would fail the next request that reused it.
     */
    Response postBytes(String path, @Nullable String token, byte[] body) {
        HttpClient once = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        return send(once, request(path, token).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/json"));
    }

    Response send(HttpRequest.Builder request) {
        return send(client, request);
    }

    private static Response send(HttpClient client, HttpRequest.Builder request) {
        try {
            HttpResponse<String> r = client.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return new Response(r.statusCode(), r.body(), r.headers().firstValue("Retry-After").orElse(null),
                    r.headers().firstValue("Content-Type").orElse(""));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    HttpRequest.Builder request(String path, @Nullable String token) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /** Creates a conversation on {@code repoId} as the user of {@code token} and returns its id. */
    String create(String token, String repoId) {
        Response r = post("/conversation", token, "{\"repoId\":\"" + repoId + "\"}");
        if (r.status() != 200) {
            throw new AssertionError("create failed: " + r);
        }
        return r.json().get("conversationId").asText();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
    }

    /** An HTTP response. */
    record Response(int status, String body, @Nullable String retryAfter, String contentType) {
        JsonNode json() {
            try {
                return MAPPER.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }

        String message() {
            return json().path("message").asText();
        }

        /** The body as JSON, its decimals read exactly. */
        JsonNode exactJson() {
            try {
                return EXACT.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }
}
