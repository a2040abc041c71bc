package dev.parley.core.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * A small OpenAI-compatible HTTP server for tests, on 127.0.0.1 and a free port. It answers
 * {@code POST /v1/chat/completions} in the chat-completions format and records every request, so tests can
 * assert what went over the wire. What it answers is set per test: reply text, reported usage (or none), an
 * HTTP error, a delay. Thread safe.
 */
public final class LocalOpenAiServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One request as it arrived. */
    public record Recorded(String authorization, JsonNode body) {
    }

    private final HttpServer server;
    private final List<Recorded> requests = new ArrayList<>();
    private String reply = "Hello from the test server.";
    private Integer promptTokens = 11;
    private Integer completionTokens = 5;
    private int errorStatus;
    private String errorMessage;
    private Duration delay = Duration.ZERO;

    public LocalOpenAiServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/v1/chat/completions", this::chatCompletions);
        server.start();
    }

    /** The base URL to give the OpenAI client. */
    public String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
    }

    /** The real langchain4j-open-ai chat model, pointed at this server, with no retries. */
    public dev.langchain4j.model.openai.OpenAiChatModel chatModel(Duration timeout) {
        return dev.langchain4j.model.openai.OpenAiChatModel.builder().baseUrl(baseUrl()).apiKey("test-key")
                .modelName("gpt-4o-mini").timeout(timeout).maxRetries(0).build();
    }

    /** The real langchain4j-open-ai streaming chat model, pointed at this server. */
    public dev.langchain4j.model.openai.OpenAiStreamingChatModel streamingModel() {
        return dev.langchain4j.model.openai.OpenAiStreamingChatModel.builder().baseUrl(baseUrl()).apiKey("test-key")
                .modelName("gpt-4o-mini").timeout(Duration.ofSeconds(20)).build();
    }

    public synchronized LocalOpenAiServer reply(String text) {
        this.reply = text;
        return this;
    }

    /** Reports this usage with each reply; nulls omit the usage object. */
    public synchronized LocalOpenAiServer usage(Integer prompt, Integer completion) {
        this.promptTokens = prompt;
        this.completionTokens = completion;
        return this;
    }

    /** Answers with this HTTP status and an OpenAI-style error body; status 0 answers normally again. */
    public synchronized LocalOpenAiServer fail(int status, String message) {
        this.errorStatus = status;
        this.errorMessage = message;
        return this;
    }

    public synchronized LocalOpenAiServer delay(Duration delay) {
        this.delay = delay;
        return this;
    }

    public synchronized List<Recorded> requests() {
        return List.copyOf(requests);
    }

    public synchronized Recorded lastRequest() {
        return requests.get(requests.size() - 1);
    }

    private void chatCompletions(HttpExchange exchange) throws IOException {
        try (exchange) {
            JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
            String text;
            Integer in;
            Integer out;
            int status;
            String error;
            Duration wait;
            synchronized (this) {
                requests.add(new Recorded(exchange.getRequestHeaders().getFirst("Authorization"), body));
                text = reply;
                in = promptTokens;
                out = completionTokens;
                status = errorStatus;
                error = errorMessage;
                wait = delay;
            }
            if (!wait.isZero()) {
                Thread.sleep(wait.toMillis());
            }
            if (status == 0 && body.path("stream").asBoolean(false)) {
                streamReply(exchange, body, text, in, out);
                return;
            }
            if (status != 0) {
                ObjectNode err = JSON.createObjectNode();
                err.putObject("error").put("message", error).put("type", "server_error");
                send(exchange, status, err);
                return;
            }
            ObjectNode response = JSON.createObjectNode()
                    .put("id", "chatcmpl-" + requests().size())
                    .put("object", "chat.completion")
                    .put("created", 1_767_225_600L)
                    .put("model", body.path("model").asText());
            ObjectNode choice = response.putArray("choices").addObject();
            choice.put("index", 0).put("finish_reason", "stop");
            choice.putObject("message").put("role", "assistant").put("content", text);
            if (in != null && out != null) {
                response.putObject("usage").put("prompt_tokens", in).put("completion_tokens", out)
                        .put("total_tokens", in + out);
            }
            send(exchange, 200, response);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** How long the server waits between streamed chunks. */
    private volatile Duration chunkDelay = Duration.ofMillis(5);
    private volatile boolean clientLeft;

    public LocalOpenAiServer chunkDelay(Duration delay) {
        this.chunkDelay = delay;
        return this;
    }

    /** Whether a client closed a stream before the server had sent all of it. */
    public boolean clientLeftMidStream() {
        return clientLeft;
    }

    /** Answers as server-sent events: one chunk per word, then finish_reason, usage, and [DONE]. */
    private void streamReply(HttpExchange exchange, JsonNode request, String text, Integer in, Integer out)
            throws IOException, InterruptedException {
        exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
        exchange.sendResponseHeaders(200, 0);
        String model = request.path("model").asText();
        try (OutputStream os = exchange.getResponseBody()) {
            for (String piece : dev.parley.testing.ScriptedModel.chunksOf(text)) {
                ObjectNode chunk = chunk(model);
                chunk.withArray("choices").addObject().put("index", 0).putNull("finish_reason")
                        .putObject("delta").put("content", piece);
                event(os, JSON.writeValueAsString(chunk));
                Thread.sleep(chunkDelay.toMillis());
            }
            ObjectNode last = chunk(model);
            last.withArray("choices").addObject().put("index", 0).put("finish_reason", "stop").putObject("delta");
            event(os, JSON.writeValueAsString(last));
            if (in != null && out != null) {
                ObjectNode usage = chunk(model);
                usage.putArray("choices");
                usage.putObject("usage").put("prompt_tokens", in).put("completion_tokens", out).put("total_tokens", in + out);
                event(os, JSON.writeValueAsString(usage));
            }
            event(os, "[DONE]");
        } catch (IOException e) {
            clientLeft = true;
        }
    }

    private static ObjectNode chunk(String model) {
        return JSON.createObjectNode().put("id", "chatcmpl-stream").put("object", "chat.completion.chunk")
                .put("created", 1_767_225_600L).put("model", model);
    }

    private static void event(OutputStream os, String data) throws IOException {
        os.write(("data: " + data + "\n\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        os.flush();
    }

    private static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
        byte[] bytes = JSON.writeValueAsBytes(body);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream os = exchange.getResponseBody()) {
            os.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }

    /** The texts of a recorded request's messages, with their roles, as "role: content". */
    public static List<String> messages(Recorded r) {
        List<String> out = new ArrayList<>();
        for (JsonNode m : r.body().path("messages")) {
            out.add(m.path("role").asText() + ": " + m.path("content").asText());
        }
        return out;
    }

}
