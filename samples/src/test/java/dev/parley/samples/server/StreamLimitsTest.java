package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Streams hold a server thread each, so their number is capped: per caller (429) and for the server (503), both with
 * Retry-After and nothing stored; a refused stream never keeps other requests from being served, and an ended
 * stream gives its slot back.
 */
class StreamLimitsTest {
    private static final String SUPPORT = WorkspaceApiTest.SUPPORT;

    @TempDir
    static Path data;

    static TestServer http;

    @BeforeAll
    static void start() {
        ScriptedModel slow = ScriptedModel.builder()
                .replyWith(r -> IntStream.rangeClosed(1, 200).mapToObj(i -> "w" + i).collect(Collectors.joining(" ")))
                .chunkDelay(Duration.ofMillis(100))
                .build();
        http = TestServer.start(WorkspaceApiTest.CONFIG, data, Map.of(),
                s -> s.withModel("demo", ScriptedModel.echo()).withModel("slow", slow).withStreamLimits(2, 1));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    /** A conversation of {@code token}'s on the slow model, or on the quick one. */
    private static String create(String token, boolean slow) {
        TestServer.Response r = http.post(SUPPORT, token, slow ? "{\"modelName\":\"slow\"}" : "{}");
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static String streams(String conversation) {
        return SUPPORT + "/" + conversation + "/message-streams";
    }

    private static JsonNode stored(String conversation, String token) {
        return http.get(SUPPORT + "/" + conversation + "/messages", token).json().get("data");
    }

    @Test
    void streamsBeyondTheCallersOrTheServersLimitAreRefusedWithRetryAfterAndStoreNothing() throws Exception {
        String alices = create("t-alice", true);
        String alicesOther = create("t-alice", false);
        String carols = create("t-carol", true);
        String walters = create("t-walter", false);

        HttpResponse<InputStream> first = http.open(streams(alices), "t-alice", WorkspaceApiTest.message("a-1", "Go"));
        try (SseEvents aliceEvents = new SseEvents(first.body())) {
            assertThat(aliceEvents.next().name()).isEqualTo("delta");

            TestServer.Response second = http.post(streams(alicesOther), "t-alice",
                    WorkspaceApiTest.message("a-2", "Me too"));
            assertThat(second.status()).as(second.body()).isEqualTo(429);
            assertThat(second.retryAfter()).isEqualTo("1");
            assertThat(second.json().get("code").asText()).isEqualTo("rateLimited");
            assertThat(second.message()).startsWith("streams: ");

            HttpResponse<InputStream> carol = http.open(streams(carols), "t-carol",
                    WorkspaceApiTest.message("c-1", "Go"));
            try (SseEvents carolEvents = new SseEvents(carol.body())) {
                assertThat(carolEvents.next().name()).as("another caller's stream, within the server's limit")
                        .isEqualTo("delta");

                TestServer.Response full = http.post(streams(walters), "t-walter",
                        WorkspaceApiTest.message("w-1", "Go"));
                assertThat(full.status()).as(full.body()).isEqualTo(503);
                assertThat(full.retryAfter()).isEqualTo("1");
                assertThat(full.json().get("code").asText()).isEqualTo("unavailable");

                assertThat(http.get(SUPPORT, "t-walter").status()).as("other requests are still served")
                        .isEqualTo(200);
                assertThat(http.post(SUPPORT + "/" + walters + "/messages", "t-walter",
                        WorkspaceApiTest.message("w-2", "Hi")).status())
                        .as("a send holds no stream slot").isEqualTo(200);

                assertThat(http.delete(streams(carols), "t-carol").status()).isEqualTo(200);
                assertThat(carolEvents.rest()).last().extracting(SseEvents.Event::name).isEqualTo("final");
            }
            assertThat(http.delete(streams(alices), "t-alice").status()).isEqualTo(200);
            assertThat(aliceEvents.rest()).last().extracting(SseEvents.Event::name).isEqualTo("final");
        }

        assertThat(stored(alicesOther, "t-alice")).as("the refused stream stored nothing").isEmpty();
        assertThat(stored(walters, "t-walter")).extracting(m -> m.get("id").asText())
                .as("only the send, nothing of the refused stream").doesNotContain("w-1").contains("w-2");
        assertThat(http.server.engine().as(dev.parley.api.Caller.user("alice", "acme").member("support").build())
                .get(alicesOther).info().tokensIn()).isZero();

        // Once a stream has ended its slot is free again (given back just after its final event was written).
        TestServer.Response again = awaitNot429(streams(alicesOther), "t-alice", "a-3");
        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).contains("event: final");
    }

    @Test
    void aStreamRefusedWithConflictAndAClientThatWentAwayGiveTheirSlotsBack() throws Exception {
        String alices = create("t-alice", true);
        String walters = create("t-walter", false);
        HttpResponse<InputStream> first = http.open(streams(alices), "t-alice", WorkspaceApiTest.message("g-1", "Go"));
        SseEvents aliceEvents = new SseEvents(first.body());
        assertThat(aliceEvents.next().name()).isEqualTo("delta");

        // Walter (the workspace's admin) takes the server's second slot, and the engine refuses: a stream runs there.
        TestServer.Response locked = http.post(streams(alices), "t-walter", WorkspaceApiTest.message("g-2", "Me"));
        assertThat(locked.status()).as(locked.body()).isEqualTo(409);
        TestServer.Response own = http.post(streams(walters), "t-walter", WorkspaceApiTest.message("g-3", "Hi"));
        assertThat(own.status()).as("the 409 gave walter's slot back: " + own.body()).isEqualTo(200);
        assertThat(own.body()).contains("event: final");

        aliceEvents.close(); // alice's client goes away mid-stream
        TestServer.Response again = awaitNot429(streams(create("t-alice", false)), "t-alice", "g-4");
        assertThat(again.status()).as("the stream of a client that went away gave its slot back: " + again.body())
                .isEqualTo(200);
    }

    /** Streams until the answer is not a 429: the ended streams give their slots back as their requests finish. */
    private static TestServer.Response awaitNot429(String path, String token, String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            http.delete(path, token); // a stream of an earlier attempt that got through would hold the slot
            TestServer.Response r = http.post(path, token, WorkspaceApiTest.message(id, "Short"));
            if (r.status() != 429 || System.nanoTime() > deadline) {
                return r;
            }
            Thread.sleep(50);
        }
    }
}
