package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.samples.ParleySamples;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two server processes on one PostgreSQL database: two child JVMs run the server's main class
 * ({@code serve --config ...}) with {@code PARLEY_JDBC_URL} naming a schema of this test's own, and their one model is
 * the real OpenAI adapter against a slow local OpenAI-compatible server ({@link FakeOpenAi}), so that a call is still
 * running while the other process is asked. A message id sent to both at once is answered once, by one model call,
 * with the same stored reply from both; a stream started on one is refused a twin on the other and cancelled through
 * the other, its partial reply stored.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TwoServersOnPostgresTest {
    private static final String CONFIG = "/dev/parley/samples/server/openai-config.json";
    private static final String WS = "/api/v1/workspaces/support/conversations";
    private static final String TOKEN = "t-alice";
    /** How long the fake model waits before a completion and between the four-character chunks of a stream. */
    private static final Duration MODEL_PAUSE = Duration.ofMillis(250);
    private static final Duration START_DEADLINE = Duration.ofSeconds(90);
    private static final Duration STOP_DEADLINE = Duration.ofSeconds(30);

    @TempDir
    static Path dir;

    static @Nullable String schema;
    static @Nullable FakeOpenAi openAi;
    static final List<Child> children = new ArrayList<>();
    static Child a;
    static Child b;

    @BeforeAll
    static void start() throws Exception {
        TestPostgres.url();
        schema = TestPostgres.createSchema("two_servers");
        openAi = new FakeOpenAi(MODEL_PAUSE);
        Path config = Path.of(resource(CONFIG));
        // One after the other: the first brings the fresh schema up to date, the second finds it so.
        a = Child.start("a", config, TestPostgres.urlOf(schema), openAi.baseUrl());
        children.add(a);
        a.awaitHealthy();
        b = Child.start("b", config, TestPostgres.urlOf(schema), openAi.baseUrl());
        children.add(b);
        b.awaitHealthy();
        // A first turn on each, so that neither is still loading classes when the tests race them.
        for (Child child : children) {
            String id = create(child.http);
            TestServer.Response warm = child.http.post(WS + "/" + id + "/messages", TOKEN,
                    WorkspaceApiTest.message("warm-" + child.name, "Warm up"));
            assertThat(warm.status()).as(warm.body()).isEqualTo(200);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        try {
            for (Child child : children) {
                child.stop();
            }
        } finally {
            if (openAi != null) {
                openAi.close();
            }
            if (schema != null) {
                TestPostgres.dropSchema(schema);
            }
        }
    }

    @Test
    void aMessageIdSentToBothServersAtOnceIsAnsweredOnceWithTheSameStoredReply() throws Exception {
        String id = create(a.http);
        String path = WS + "/" + id + "/messages";
        String body = WorkspaceApiTest.message("twice-1", "Answer me once");

        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        TestServer.Response fromA;
        TestServer.Response fromB;
        try {
            Future<TestServer.Response> sentToA = pool.submit(() -> {
                go.await();
                return a.http.post(path, TOKEN, body);
            });
            Future<TestServer.Response> sentToB = pool.submit(() -> {
                go.await();
                return b.http.post(path, TOKEN, body);
            });
            go.countDown();
            fromA = sentToA.get(60, TimeUnit.SECONDS);
            fromB = sentToB.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }

        assertThat(fromA.status()).as(fromA.body()).isEqualTo(200);
        assertThat(fromB.status()).as(fromB.body()).isEqualTo(200);
        assertThat(fromA.json().get("text").asText()).isEqualTo(FakeOpenAi.reply("Answer me once"));
        assertThat(fromB.json()).as("the same stored reply from both servers").isEqualTo(fromA.json());
        assertThat(openAi.received()).as("model calls for the message")
                .filteredOn(r -> r.messages().get(r.messages().size() - 1).equals("user: Answer me once"))
                .hasSize(1);
        for (Child child : children) {
            JsonNode stored = messages(child.http, id);
            assertThat(stored).as("the messages as server %s lists them", child.name).hasSize(2);
            assertThat(stored).filteredOn(m -> m.get("role").asText().equalsIgnoreCase("assistant"))
                    .as("stored assistant messages").hasSize(1);
            assertThat(stored.get(0).get("id").asText()).isEqualTo("twice-1");
            assertThat(stored.get(1).get("text").asText()).isEqualTo(fromA.json().get("text").asText());
        }
    }

    @Test
    void aStreamOnOneServerIsCancelledThroughTheOtherAndItsPartialReplyIsStored() throws Exception {
        String id = create(a.http);
        String streams = WS + "/" + id + "/message-streams";
        String prompt = "Tell me a long story about two servers that share one database";
        String full = FakeOpenAi.reply(prompt);

        HttpResponse<InputStream> response = a.http.open(streams, TOKEN, WorkspaceApiTest.message("stream-1", prompt));
        assertThat(response.statusCode()).isEqualTo(200);
        String finalText;
        try (SseEvents events = new SseEvents(response.body())) {
            SseEvents.Event first = events.next();
            assertThat(first.name()).isEqualTo("delta");
            StringBuilder received = new StringBuilder(first.data().get("text").asText());

            TestServer.Response twin = b.http.post(streams, TOKEN, WorkspaceApiTest.message("stream-2", "Me too"));
            assertThat(twin.status()).as("a second stream through the other server: %s", twin.body()).isEqualTo(409);
            assertThat(twin.json().get("code").asText()).isEqualTo("conversationLocked");

            TestServer.Response cancel = b.http.delete(streams, TOKEN);
            assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);

            List<SseEvents.Event> rest = events.rest();
            assertThat(rest).as("server a's stream ended").isNotEmpty();
            rest.stream().filter(e -> e.name().equals("delta"))
                    .forEach(e -> received.append(e.data().get("text").asText()));
            SseEvents.Event last = rest.get(rest.size() - 1);
            assertThat(last.name()).isEqualTo("final");
            assertThat(last.data().get("status").asText()).isEqualTo("CANCELLED");
            finalText = last.data().get("text").asText();
            assertThat(finalText).isEqualTo(received.toString()).isNotEmpty();
            assertThat(full).startsWith(finalText).isNotEqualTo(finalText);
        }

        for (Child child : children) {
            JsonNode stored = messages(child.http, id);
            assertThat(stored).as("the messages as server %s lists them", child.name).hasSize(2);
            assertThat(stored.get(0).get("id").asText()).isEqualTo("stream-1");
            assertThat(stored.get(1).get("status").asText()).isEqualTo("CANCELLED");
            assertThat(stored.get(1).get("text").asText()).isEqualTo(finalText);
        }
    }

    private static String create(TestServer http) {
        TestServer.Response r = http.post(WS, TOKEN, "{}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static JsonNode messages(TestServer http, String conversation) {
        TestServer.Response r = http.get(WS + "/" + conversation + "/messages?size=100", TOKEN);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("data");
    }

    private static java.net.URI resource(String name) throws URISyntaxException {
        return java.util.Objects.requireNonNull(TwoServersOnPostgresTest.class.getResource(name), name).toURI();
    }

    /** A server process: a child JVM on this test's class path, its output in a file of the test's directory. */
    static final class Child {
        final String name;
        final TestServer http;
        private final Process process;
        private final Path log;

        private Child(String name, Process process, int port, Path log) {
            this.name = name;
            this.process = process;
            this.http = TestServer.client(port);
            this.log = log;
        }

        /** Starts {@code serve} on {@code config}, a free loopback port and the PostgreSQL store {@code jdbcUrl}. */
        static Child start(String name, Path config, String jdbcUrl, String openAiUrl) throws IOException {
            int port = freePort();
            Path log = dir.resolve("server-" + name + ".log");
            List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"),
                    ParleySamples.class.getName(), "serve", "--config", config.toString(),
                    "--host", "127.0.0.1", "--port", Integer.toString(port),
                    "--data", dir.resolve("data-" + name).toString());
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            Map<String, String> env = builder.environment();
            // Only what this test gives: no model or store of the environment the test runs in.
            env.keySet().removeIf(key -> key.startsWith("OPENAI_") || key.startsWith("PARLEY_"));
            env.put("PARLEY_JDBC_URL", jdbcUrl);
            env.put("FAKE_OPENAI_KEY", "sk-fake-two-servers");
            env.put("FAKE_OPENAI_URL", openAiUrl);
            return new Child(name, builder.start(), port, log);
        }

        /** Waits until {@code GET /health} answers 200; fails with the end of the server's output if it does not. */
        void awaitHealthy() throws InterruptedException {
            long deadline = System.nanoTime() + START_DEADLINE.toNanos();
            while (true) {
                if (!process.isAlive()) {
                    throw new AssertionError("server " + name + " exited with " + process.exitValue() + ":\n" + output());
                }
                try {
                    if (http.get("/health", null).status() == 200) {
                        return;
                    }
                } catch (UncheckedIOException e) {
                    // not listening yet
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("server " + name + " not healthy within " + START_DEADLINE + ":\n"
                            + output());
                }
                Thread.sleep(200);
            }
        }

        /** Stops the process by its handle: SIGTERM, and SIGKILL if it has not ended within the deadline. */
        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(STOP_DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
        }

        /** The end of the server's output, for a failure's message (the test's directory is deleted after it). */
        private String output() {
            try {
                String all = Files.readString(log, StandardCharsets.UTF_8);
                return all.length() <= 4000 ? all : all.substring(all.length() - 4000);
            } catch (IOException e) {
                return "(unreadable: " + e + ")";
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket socket = new ServerSocket(0)) {
                return socket.getLocalPort();
            }
        }
    }
}
