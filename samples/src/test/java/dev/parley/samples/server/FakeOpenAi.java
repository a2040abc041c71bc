package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A small OpenAI-compatible server on a loopback port, for the real LangChain4j OpenAI adapter to call:
 * {@code POST /v1/chat/completions} answers {@code "Fake reply to: <last message>"}, as one JSON completion or, when the
 * request says {@code "stream": true}, as Server-Sent Event chunks of a few characters each, a final chunk with the
 * finish reason, a usage chunk and {@code [DONE]}. Every answer reports {@link #PROMPT_TOKENS} and
 * {@link #COMPLETION_TOKENS}. A slow fake waits before a completion and between a stream's chunks, so that a test can
 * act while a call is in progress. It records each request's body and {@code Authorization} header. Thread safe.
 * Public for the tests of the other sample packages.
 */
public final class FakeOpenAi implements AutoCloseable {
    public static final int PROMPT_TOKENS = 31;
    public static final int COMPLETION_TOKENS = 9;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** One request received. */
    public record Received(String authorization, JsonNode body) {
        /** The messages' roles and contents, as "role: content". */
        public List<String> messages() {
            List<String> out = new ArrayList<>();
            body.get("messages").forEach(m -> out.add(m.get("role").asText() + ": " + m.get("content").asText()));
            return out;
        }
    }

    private final HttpServer server;
    private final ExecutorService executor = Executors.newFixedThreadPool(4);
    private final List<Received> received = new ArrayList<>();
    private final Duration pause;

    /** A fake that answers at once. */
    public FakeOpenAi() {
        this(Duration.ZERO);
    }

    /** A fake that waits {@code pause} before a completion and between the chunks of a stream. */
    FakeOpenAi(Duration pause) {
        this.pause = pause;
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/v1/chat/completions", this::handle);
        server.setExecutor(executor);
        server.start();
    }

    /** The base URL to configure: {@code http://127.0.0.1:PORT/v1}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** What the fake answers to a conversation whose last message is {@code last}. */
    public static String reply(String last) {
        return "Fake reply to: " + last;
    }

    synchronized List<Received> received() {
        return List.copyOf(received);
    }

    public synchronized Received last() {
        if (received.isEmpty()) {
            throw new AssertionError("no request received");
        }
        return received.get(received.size() - 1);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode body = MAPPER.readTree(exchange.getRequestBody().readAllBytes());
            String authorization = String.valueOf(exchange.getRequestHeaders().getFirst("Authorization"));
            synchronized (this) {
                received.add(new Received(authorization, body));
            }
            JsonNode messages = body.get("messages");
            String text = reply(messages.get(messages.size() - 1).get("content").asText());
            String model = body.path("model").asText();
            if (body.path("stream").asBoolean()) {
                stream(exchange, model, text);
            } else {
                pause();
                ObjectNode completion = MAPPER.createObjectNode().put("id", "chatcmpl-fake")
                        .put("object", "chat.completion").put("created", 1).put("model", model);
                ObjectNode choice = completion.putArray("choices").addObject().put("index", 0)
                        .put("finish_reason", "stop");
                choice.putObject("message").put("role", "assistant").put("content", text);
                completion.set("usage", usage());
                byte[] bytes = MAPPER.writeValueAsBytes(completion);
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
            }
        }
    }

    private void pause() throws IOException {
        if (pause.isZero()) {
            return;
        }
        try {
            Thread.sleep(pause.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void stream(HttpExchange exchange, String model, String text) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        OutputStream out = exchange.getResponseBody();
        for (String piece : chunks(text)) {
            ObjectNode chunk = chunk(model);
            chunk.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                    .putObject("delta").put("role", "assistant").put("content", piece);
            event(out, chunk.toString());
            pause();
        }
        ObjectNode last = chunk(model);
        last.withArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("delta");
        event(out, last.toString());
        ObjectNode usage = chunk(model);
        usage.putArray("choices");
        usage.set("usage", usage());
        event(out, usage.toString());
        event(out, "[DONE]");
    }

    /** The pieces a stream sends: four characters each. */
    static List<String> chunks(String text) {
        List<String> pieces = new ArrayList<>();
        for (int i = 0; i < text.length(); i += 4) {
            pieces.add(text.substring(i, Math.min(text.length(), i + 4)));
        }
        return pieces;
    }

    private static ObjectNode chunk(String model) {
        ObjectNode chunk = MAPPER.createObjectNode().put("id", "chatcmpl-fake").put("object", "chat.completion.chunk")
                .put("created", 1).put("model", model);
        chunk.putArray("choices");
        return chunk;
    }

    private static ObjectNode usage() {
        return MAPPER.createObjectNode().put("prompt_tokens", PROMPT_TOKENS).put("completion_tokens", COMPLETION_TOKENS)
                .put("total_tokens", PROMPT_TOKENS + COMPLETION_TOKENS);
    }

    private static void event(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
