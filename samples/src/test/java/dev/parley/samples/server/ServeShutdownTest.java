package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.samples.ParleySamples;
import dev.parley.samples.server.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code serve} in a child JVM on the demo configuration, stopped with SIGTERM while it streams a reply: the client
 * gets the final event of the cancelled reply, the process ends, and the partial reply is in the store when a server
 * opens it again. Its console shows the server's own lines and no library INFO; the whole log is under the data
 * directory.
 */
class ServeShutdownTest {
    @TempDir
    Path data;

    @Test
    void sigtermCancelsTheRunningStreamKeepsItsPartialReplyAndEndsTheProcess() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=logback.xml", // the jar's logging, not the tests'

                "-cp", System.getProperty("java.class.path"),
                ParleySamples.class.getName(), "serve", "--port", Integer.toString(port), "--data", data.toString()));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(data.resolve("server.log").toFile());
        builder.environment().keySet().removeIf(key -> key.startsWith("OPENAI_") || key.startsWith("PARLEY_"));
        Process server = builder.start();
        try {
            TestServer http = TestServer.client(port);
            awaitHealthy(http, server);
            TestServer.Response created = http.post("/api/v1/workspaces/support/conversations",
                    "demo-alice-token", "{}");
            assertThat(created.status()).as(created.body()).isEqualTo(201);
            String id = created.json().get("id").asText();

            HttpResponse<InputStream> stream = http.open("/api/v1/workspaces/support/conversations/" + id
                    + "/message-streams", "demo-alice-token", WorkspaceApiTest.message("m-1", "Tell me everything"));
            StringBuilder received = new StringBuilder();
            SseEvents.Event last;
            try (SseEvents events = new SseEvents(stream.body())) {
                SseEvents.Event first = events.next();
                assertThat(first.name()).isEqualTo("delta");
                received.append(first.data().get("text").asText());

                server.destroy(); // SIGTERM

                List<SseEvents.Event> rest = events.rest();
                rest.stream().filter(e -> e.name().equals("delta"))
                        .forEach(e -> received.append(e.data().get("text").asText()));
                last = rest.get(rest.size() - 1);
            }
            assertThat(last.name()).as("%s %s", last.data(), log(data)).isEqualTo("final");
            assertThat(last.data().get("status").asText()).isEqualTo("CANCELLED");
            assertThat(last.data().get("text").asText()).isEqualTo(received.toString()).isNotEmpty();
            assertThat(server.waitFor(30, TimeUnit.SECONDS)).as("the process ended").isTrue();

            String console = log(data);
            assertThat(console).as("the server's own lines on the console").contains("listening on http://")
                    .contains("POST /api/v1/workspaces/support/conversations 201");
            assertThat(console).as("no library INFO on the console").doesNotContain("org.flywaydb", "com.zaxxer");
            assertThat(java.nio.file.Files.readString(data.resolve("logs").resolve("parley-samples.log")))
                    .as("the whole log in the data directory").contains("Successfully applied", "listening on");

            try (TestServer again = TestServer.start(ConfigLoader.withSystemEnvironment().demo(), data)) {
                JsonNode stored = again.get("/api/v1/workspaces/support/conversations/" + id + "/messages",
                        "demo-alice-token").json().get("data");
                assertThat(stored).hasSize(2);
                assertThat(stored.get(1).get("status").asText()).isEqualTo("CANCELLED");
                assertThat(stored.get(1).get("text").asText()).isEqualTo(received.toString());
            }
        } finally {
            server.destroyForcibly();
        }
    }

    private static String log(Path data) {
        try {
            return java.nio.file.Files.readString(data.resolve("server.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    private static void awaitHealthy(TestServer http, Process server) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(server.isAlive()).as("the server process is running").isTrue();
            try {
                if (http.get("/health", null).status() == 200) {
                    return;
                }
            } catch (RuntimeException notYet) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the server did not answer /health within 60 s");
    }
}
