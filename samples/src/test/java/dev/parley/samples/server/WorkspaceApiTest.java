package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.parley.api.values.ModelMessage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The workspace-style API end to end: a real server on a loopback port, called with java.net.http. */
class WorkspaceApiTest {
    static final String CONFIG = "/dev/parley/samples/server/workspace-config.json";
    static final String SUPPORT = "/api/v1/workspaces/support/conversations";
    /** Words of the slow model's reply; it stops early when cancelled. */
    static final int SLOW_WORDS = 60;

    @TempDir
    static Path data;

    static TestServer http;
    static ScriptedModel demo;
    static ScriptedModel slow;

    @BeforeAll
    static void start() {
        demo = ScriptedModel.echo();
        slow = ScriptedModel.builder()
                .replyWith(r -> IntStream.rangeClosed(1, SLOW_WORDS).mapToObj(i -> "w" + i)
                        .collect(Collectors.joining(" ")))
                .chunkDelay(Duration.ofMillis(200))
                .build();
        http = TestServer.start(CONFIG, data, Map.of(), s -> s.withModel("demo", demo).withModel("slow", slow));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    /** Creates a conversation in support as {@code token}, with {@code body}, and returns its id. */
    static String create(String token, String body) {
        TestServer.Response r = http.post(SUPPORT, token, body);
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    static String message(String id, String text) {
        return "{\"id\":" + TextNode.valueOf(id) + ",\"text\":" + TextNode.valueOf(text) + "}";
    }

    static JsonNode messages(String conversation, String token) {
        TestServer.Response r = http.get(SUPPORT + "/" + conversation + "/messages?size=100", token);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json();
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void aConversationIsCreatedWithSteeringAndReadBack() {
        TestServer.Response created = http.post(SUPPORT, "t-alice", "{\"personality\":\"terse\",\"personalityId\":42,"
                + "\"brandVoiceId\":\"friendly\",\"targetAudienceId\":\"developers\",\"modelName\":\"demo\"}");

        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.contentType()).startsWith("application/json");
        JsonNode c = created.json();
        assertThat(c.get("id").asText()).isNotBlank();
        assertThat(c.get("workspaceId").asText()).isEqualTo("support");
        assertThat(c.get("legacyCustomerId").asLong()).isEqualTo(1001);
        assertThat(c.get("personality").asText()).isEqualTo("terse");
        assertThat(c.get("personalityId").isIntegralNumber()).isTrue();
        assertThat(c.get("personalityId").asLong()).isEqualTo(42);
        assertThat(c.get("brandVoiceId").asText()).isEqualTo("friendly");
        assertThat(c.get("targetAudienceId").asText()).isEqualTo("developers");
        assertThat(c.get("modelName").asText()).isEqualTo("demo");
        assertThat(Instant.parse(c.get("createdAt").asText())).isNotNull();

        TestServer.Response read = http.get(SUPPORT + "/" + c.get("id").asText(), "t-alice");
        assertThat(read.status()).isEqualTo(200);
        assertThat(read.json()).isEqualTo(c);
    }

    @Test
    void aConversationWithoutBodyHasNoSteeringAndTheEngineDefaultModel() {
        TestServer.Response created = http.post(SUPPORT, "t-alice", "");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        assertThat(created.json().get("personality").isNull()).isTrue();
        assertThat(created.json().get("brandVoiceId").isNull()).isTrue();
        assertThat(created.json().get("modelName").isNull()).isTrue();
    }

    @Test
    void theSteeringReachesTheModelAsTheSystemMessage() {
        String id = create("t-alice", "{\"brandVoiceId\":\"friendly\",\"targetAudienceId\":\"developers\"}");
        http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("steer-1", "Hello"));

        String system = demo.lastRequest().messages().stream().filter(m -> m.role() == ModelMessage.Role.SYSTEM)
                .map(ModelMessage::text).collect(Collectors.joining("\n"));
        assertThat(system).contains("Warm, plain words, no jargon.").contains("Software developers who know Java.");
    }

    @Test
    void anUnknownBrandVoiceOrModelIsRefusedNamingTheFieldAndNothingIsCreated() {
        long before = conversations("t-carol");
        TestServer.Response voice = http.post(SUPPORT, "t-carol", "{\"brandVoiceId\":\"shouty\"}");
        TestServer.Response model = http.post(SUPPORT, "t-carol", "{\"modelName\":\"no-such-model\"}");

        assertThat(voice.status()).as(voice.body()).isEqualTo(400);
        assertThat(voice.json().get("code").asText()).isEqualTo("invalidRequest");
        assertThat(voice.message()).startsWith("brandVoiceId: ");
        assertThat(model.status()).as(model.body()).isEqualTo(400);
        assertThat(model.message()).startsWith("modelName: ");
        assertThat(conversations("t-carol")).isEqualTo(before);
    }

    static long conversations(String token) {
        return http.get(SUPPORT, token).json().get("page").get("totalElements").asLong();
    }

    @Test
    void conversationsAreListedNewestFirstInThePageEnvelope() {
        List<String> mine = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            mine.add(create("t-walter", ""));
        }
        JsonNode page = http.get(SUPPORT + "?size=2", "t-walter").json();
        assertThat(page.get("page").get("size").asInt()).isEqualTo(2);
        assertThat(page.get("page").get("currentPage").asInt()).isEqualTo(1);
        assertThat(page.get("page").get("totalElements").asLong()).isGreaterThanOrEqualTo(3);
        assertThat(page.get("data")).hasSize(2);
        assertThat(page.get("data").get(0).get("id").asText()).isEqualTo(mine.get(2));
        assertThat(page.get("data").get(1).get("id").asText()).isEqualTo(mine.get(1));
        assertThat(http.get("/api/v1/workspaces/sales/conversations", "t-olivia").json().get("data"))
                .as("another workspace's list").noneMatch(c -> mine.contains(c.get("id").asText()));
    }

    @Test
    void messagesArePagedOldestFirstTwentyByDefault() {
        String id = create("t-alice", "");
        for (int i = 1; i <= 69; i++) {
            TestServer.Response r = http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("m" + i, "turn " + i));
            assertThat(r.status()).as(r.body()).isEqualTo(200);
        }

        JsonNode first = http.get(SUPPORT + "/" + id + "/messages", "t-alice").json();
        assertThat(first.get("page").get("size").asInt()).isEqualTo(20);
        assertThat(first.get("page").get("totalElements").asLong()).isEqualTo(138);
        assertThat(first.get("page").get("totalPages").asInt()).isEqualTo(7);
        assertThat(first.get("page").get("currentPage").asInt()).isEqualTo(1);
        assertThat(first.get("data")).hasSize(20);
        assertThat(first.get("data").get(0).get("id").asText()).isEqualTo("m1");
        assertThat(first.get("data").get(0).get("role").asText()).isEqualTo("user");
        assertThat(first.get("data").get(0).get("text").asText()).isEqualTo("turn 1");
        assertThat(first.get("data").get(1).get("role").asText()).isEqualTo("assistant");

        JsonNode last = http.get(SUPPORT + "/" + id + "/messages?page=7&size=20", "t-alice").json();
        assertThat(last.get("page").get("currentPage").asInt()).isEqualTo(7);
        assertThat(last.get("data")).hasSize(18);
        assertThat(last.get("data").get(16).get("text").asText()).isEqualTo("turn 69");

        TestServer.Response page0 = http.get(SUPPORT + "/" + id + "/messages?page=0", "t-alice");
        assertThat(page0.status()).isEqualTo(400);
        assertThat(page0.json().get("code").asText()).isEqualTo("invalidRequest");
        assertThat(page0.message()).startsWith("page: ");
        TestServer.Response size101 = http.get(SUPPORT + "/" + id + "/messages?size=101", "t-alice");
        assertThat(size101.status()).isEqualTo(400);
        assertThat(size101.message()).startsWith("size: ");
        TestServer.Response listSize = http.get(SUPPORT + "?size=101", "t-alice");
        assertThat(listSize.status()).isEqualTo(400);
        assertThat(listSize.message()).startsWith("size: ");
    }

    @Test
    void aSentMessageIsAnsweredWithTheStoredAssistantMessage() {
        String id = create("t-alice", "");
        String body = "{\"id\":\"hello-1\",\"text\":\"My favourite number is 444.\","
                + "\"createdAt\":\"2024-05-01T12:00:00Z\","
                + "\"additionalContext\":[{\"id\":\"ctx-1\",\"content\":\"The user likes owls.\","
                + "\"category_name\":\"profile\"}],\"contextSize\":4000}";
        TestServer.Response r = http.post(SUPPORT + "/" + id + "/messages", "t-alice", body);

        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode reply = r.json();
        assertThat(reply.get("role").asText()).isEqualTo("assistant");
        assertThat(reply.get("conversationId").asText()).isEqualTo(id);
        assertThat(reply.get("text").asText()).isEqualTo("echo: My favourite number is 444.");
        assertThat(reply.get("status").asText()).isEqualTo("COMPLETE");
        assertThat(reply.get("modelName").asText()).isEqualTo("demo");
        assertThat(reply.get("tokensIn").asLong()).isPositive();
        assertThat(reply.get("tokensOut").asLong()).isPositive();
        assertThat(demo.lastRequestTexts()).anyMatch(t -> t.contains("The user likes owls."));

        JsonNode stored = messages(id, "t-alice").get("data");
        assertThat(stored).hasSize(2);
        assertThat(stored.get(0).get("id").asText()).isEqualTo("hello-1");
        assertThat(stored.get(0).get("createdAt").asText()).isEqualTo("2024-05-01T12:00:00Z");
        assertThat(stored.get(0).get("tokensIn").isNull()).isTrue();
        assertThat(stored.get(1)).isEqualTo(withoutCredits(reply));
        assertThat(reply.get("creditsUsed").isNull()).as("no account charged").isTrue();
        assertThat(reply.get("creditsRemaining").isNull()).isTrue();
        assertThat(stored.toString()).as("additional context is not stored").doesNotContain("owls");

        http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("hello-2", "And now?"));
        assertThat(demo.lastRequestTexts()).as("nor sent with a later turn").noneMatch(t -> t.contains("owls"));
    }

    /** A reply as the message list shows it: without the turn's credits, which only the reply answer carries. */
    static JsonNode withoutCredits(JsonNode reply) {
        ObjectNode stored = reply.deepCopy();
        assertThat(stored.has("creditsUsed")).as("a reply has creditsUsed").isTrue();
        assertThat(stored.has("creditsRemaining")).as("a reply has creditsRemaining").isTrue();
        stored.remove(List.of("creditsUsed", "creditsRemaining"));
        return stored;
    }

    @Test
    void aChargedReplyCarriesItsCreditsAsExactDecimalStringsInTheAnswerAndTheFinalEvent() throws Exception {
        String id = create("t-penny", "{\"modelName\":\"priced\"}");
        TestServer.Response sent = http.post(SUPPORT + "/" + id + "/messages", "t-penny",
                message("priced-1", "What does this cost?"));

        assertThat(sent.status()).as(sent.body()).isEqualTo(200);
        JsonNode reply = sent.json();
        assertThat(reply.get("creditsUsed").isTextual()).as(reply.toString()).isTrue();
        assertThat(reply.get("creditsRemaining").isTextual()).isTrue();
        BigDecimal used = new BigDecimal(reply.get("creditsUsed").asText());
        BigDecimal remaining = new BigDecimal(reply.get("creditsRemaining").asText());
        assertThat(used).as("at least the price per request").isGreaterThanOrEqualTo(new BigDecimal("0.01"));
        assertThat(used.add(remaining)).as("penny's account opened with 100").isEqualByComparingTo("100");
        assertThat(reply.get("creditsUsed").asText()).as("no trailing zeros").doesNotEndWith("0");

        HttpResponse<InputStream> response = http.open(SUPPORT + "/" + id + "/message-streams", "t-penny",
                message("priced-2", "And this one?"));
        try (SseEvents events = new SseEvents(response.body())) {
            List<SseEvents.Event> all = events.rest();
            JsonNode last = all.get(all.size() - 1).data();
            assertThat(all.get(all.size() - 1).name()).isEqualTo("final");
            BigDecimal usedAgain = new BigDecimal(last.get("creditsUsed").asText());
            assertThat(usedAgain).isPositive();
            assertThat(new BigDecimal(last.get("creditsRemaining").asText()))
                    .isEqualByComparingTo(remaining.subtract(usedAgain));
        }
    }

    @Test
    void aReplayedMessageIdReturnsTheSameStoredReplyWithoutAModelCall() {
        String id = create("t-alice", "");
        String body = message("once-1", "Count me once");
        TestServer.Response first = http.post(SUPPORT + "/" + id + "/messages", "t-alice", body);
        int calls = demo.callCount();
        TestServer.Response again = http.post(SUPPORT + "/" + id + "/messages", "t-alice", body);

        assertThat(again.status()).as(again.body()).isEqualTo(200);
        assertThat(again.json()).isEqualTo(first.json());
        assertThat(demo.callCount()).as("model calls").isEqualTo(calls);
        assertThat(messages(id, "t-alice").get("page").get("totalElements").asLong()).isEqualTo(2);

        TestServer.Response reused = http.post(SUPPORT + "/" + id + "/messages", "t-alice",
                message("once-1", "Another text"));
        assertThat(reused.status()).as("a reused id with another text").isEqualTo(400);
        assertThat(reused.message()).startsWith("id: ");
    }

    @Test
    void aPatchKeepsOmittedFieldsClearsNullsAndSetsValues() {
        String id = create("t-alice", "{\"personality\":\"terse\",\"personalityId\":7,\"brandVoiceId\":\"friendly\","
                + "\"targetAudienceId\":\"developers\",\"modelName\":\"demo\"}");
        String path = SUPPORT + "/" + id;

        TestServer.Response set = http.patch(path, "t-alice", "{\"brandVoiceId\":\"formal\"}");
        assertThat(set.status()).as(set.body()).isEqualTo(200);
        assertThat(set.json().get("brandVoiceId").asText()).isEqualTo("formal");
        assertThat(set.json().get("personality").asText()).as("kept").isEqualTo("terse");
        assertThat(set.json().get("personalityId").asLong()).as("kept").isEqualTo(7);
        assertThat(set.json().get("targetAudienceId").asText()).as("kept").isEqualTo("developers");
        assertThat(set.json().get("modelName").asText()).as("kept").isEqualTo("demo");

        TestServer.Response cleared = http.patch(path, "t-alice", "{\"personality\":null,\"modelName\":null}");
        assertThat(cleared.status()).as(cleared.body()).isEqualTo(200);
        assertThat(cleared.json().get("personality").isNull()).isTrue();
        assertThat(cleared.json().get("modelName").isNull()).isTrue();
        assertThat(cleared.json().get("brandVoiceId").asText()).isEqualTo("formal");

        JsonNode read = http.get(path, "t-alice").json();
        assertThat(read).isEqualTo(cleared.json());
    }

    @Test
    void aNineteenDigitPersonalityIdIsReadBackAsTheNumberItWas() {
        String id = create("t-alice", "{\"personalityId\":9223372036854775807}");
        TestServer.Response r = http.get(SUPPORT + "/" + id, "t-alice");
        assertThat(r.json().get("personalityId").isNumber()).as(r.body()).isTrue();
        assertThat(r.json().get("personalityId").asLong()).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aPatchWithoutAnyFieldIsRefused() {
        String id = create("t-alice", "{\"personality\":\"terse\"}");
        String path = SUPPORT + "/" + id;

        for (String body : List.of("{}", "")) {
            TestServer.Response r = http.patch(path, "t-alice", body);
            assertThat(r.status()).as(body).isEqualTo(400);
            assertThat(r.json().get("code").asText()).isEqualTo("invalidRequest");
            assertThat(r.message()).startsWith("body: ");
        }
        TestServer.Response unknown = http.patch(path, "t-alice", "{\"title\":\"x\"}");
        assertThat(unknown.status()).isEqualTo(400);
        assertThat(unknown.message()).startsWith("title: ");
        assertThat(http.get(path, "t-alice").json().get("personality").asText()).isEqualTo("terse");
    }

    @Test
    void aStreamSendsDeltasAndOneFinalEventWithTheStoredMessage() throws Exception {
        String id = create("t-alice", "");
        HttpResponse<InputStream> response = http.open(SUPPORT + "/" + id + "/message-streams", "t-alice",
                message("stream-1", "one two three four"));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");

        try (SseEvents events = new SseEvents(response.body())) {
            List<SseEvents.Event> all = events.rest();
            List<SseEvents.Event> deltas = all.stream().filter(e -> e.name().equals("delta")).toList();
            assertThat(deltas).hasSizeGreaterThan(1);
            assertThat(deltas.stream().map(e -> e.data().get("text").asText()).collect(Collectors.joining()))
                    .isEqualTo("echo: one two three four");
            assertThat(all).filteredOn(e -> !e.name().equals("delta")).hasSize(1);
            SseEvents.Event last = all.get(all.size() - 1);
            assertThat(last.name()).isEqualTo("final");
            assertThat(last.data().get("text").asText()).isEqualTo("echo: one two three four");
            assertThat(last.data().get("status").asText()).isEqualTo("COMPLETE");
            assertThat(messages(id, "t-alice").get("data").get(1)).isEqualTo(withoutCredits(last.data()));
        }
    }

    @Test
    void unicodeInAStreamArrivesIntact() throws Exception {
        String id = create("t-alice", "");
        String text = "caf\u00e9 \uD83D\uDE00 \u4e2d\u6587";
        HttpResponse<InputStream> response = http.open(SUPPORT + "/" + id + "/message-streams", "t-alice",
                message("uni-1", text));
        try (SseEvents events = new SseEvents(response.body())) {
            List<SseEvents.Event> all = events.rest();
            assertThat(all.get(all.size() - 1).data().get("text").asText()).isEqualTo("echo: " + text);
        }
    }

    @Test
    void aSecondStreamWhileOneRunsIsRefusedWithConversationLocked() throws Exception {
        String id = create("t-alice", "{\"modelName\":\"slow\"}");
        String streams = SUPPORT + "/" + id + "/message-streams";
        HttpResponse<InputStream> first = http.open(streams, "t-alice", message("slow-1", "Take your time"));
        try (SseEvents events = new SseEvents(first.body())) {
            assertThat(events.next().name()).isEqualTo("delta");

            TestServer.Response second = http.post(streams, "t-alice", message("slow-2", "Me too"));
            assertThat(second.status()).as(second.body()).isEqualTo(409);
            assertThat(second.json().get("code").asText()).isEqualTo("conversationLocked");
            TestServer.Response send = http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("slow-3", "Hi"));
            assertThat(send.status()).isEqualTo(409);
            assertThat(send.json().get("code").asText()).isEqualTo("conversationLocked");

            assertThat(http.delete(streams, "t-alice").status()).isEqualTo(200);
            List<SseEvents.Event> rest = events.rest();
            assertThat(rest.get(rest.size() - 1).name()).isEqualTo("final");
        }
        assertThat(messages(id, "t-alice").get("data")).extracting(m -> m.get("id").asText())
                .as("nothing of the refused turns is stored").doesNotContain("slow-2", "slow-3");
    }

    @Test
    void deletingTheStreamCancelsItAndKeepsThePartialReply() throws Exception {
        String id = create("t-alice", "{\"modelName\":\"slow\"}");
        String streams = SUPPORT + "/" + id + "/message-streams";
        HttpResponse<InputStream> response = http.open(streams, "t-alice", message("cancel-1", "Go on"));
        try (SseEvents events = new SseEvents(response.body())) {
            StringBuilder received = new StringBuilder();
            received.append(events.next().data().get("text").asText());

            TestServer.Response cancel = http.delete(streams, "t-alice");
            assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);

            List<SseEvents.Event> rest = events.rest();
            rest.stream().filter(e -> e.name().equals("delta")).forEach(e -> received.append(e.data().get("text").asText()));
            SseEvents.Event last = rest.get(rest.size() - 1);
            assertThat(last.name()).isEqualTo("final");
            assertThat(last.data().get("status").asText()).isEqualTo("CANCELLED");
            assertThat(last.data().get("text").asText()).isEqualTo(received.toString()).startsWith("w1 ")
                    .doesNotContain("w" + SLOW_WORDS);
        }
        JsonNode stored = messages(id, "t-alice").get("data");
        assertThat(stored).hasSize(2);
        assertThat(stored.get(0).get("id").asText()).isEqualTo("cancel-1");
        assertThat(stored.get(1).get("status").asText()).isEqualTo("CANCELLED");
        assertThat(stored.get(1).get("text").asText()).startsWith("w1 ");
    }

    @Test
    void aClientThatGoesAwayCancelsItsStreamAndThePartialReplyIsKept() throws Exception {
        String id = create("t-alice", "{\"modelName\":\"slow\"}");
        HttpResponse<InputStream> response = http.open(SUPPORT + "/" + id + "/message-streams", "t-alice",
                message("gone-1", "Bye"));
        SseEvents events = new SseEvents(response.body());
        assertThat(events.next().name()).isEqualTo("delta");
        events.close();

        await("the reply stored as cancelled", () -> {
            JsonNode stored = messages(id, "t-alice").get("data");
            return stored.size() == 2 && stored.get(1).get("status").asText().equals("CANCELLED");
        });
        assertThat(messages(id, "t-alice").get("data").get(1).get("text").asText()).doesNotContain("w" + SLOW_WORDS);
    }

    @Test
    void deletingWhenNoStreamIsActiveIsANoOp() {
        String id = create("t-alice", "");
        http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("quiet-1", "Hi"));

        TestServer.Response r = http.delete(SUPPORT + "/" + id + "/message-streams", "t-alice");

        assertThat(r.status()).isEqualTo(200);
        JsonNode stored = messages(id, "t-alice").get("data");
        assertThat(stored).hasSize(2);
        assertThat(stored.get(1).get("status").asText()).isEqualTo("COMPLETE");
    }

    @Test
    void aStreamOfAReplayedIdDeliversTheStoredReply() throws Exception {
        String id = create("t-alice", "");
        TestServer.Response sent = http.post(SUPPORT + "/" + id + "/messages", "t-alice", message("re-1", "Again"));
        int calls = demo.callCount();
        HttpResponse<InputStream> response = http.open(SUPPORT + "/" + id + "/message-streams", "t-alice",
                message("re-1", "Again"));
        try (SseEvents events = new SseEvents(response.body())) {
            List<SseEvents.Event> all = events.rest();
            assertThat(all.get(all.size() - 1).data()).isEqualTo(sent.json());
        }
        assertThat(demo.callCount()).isEqualTo(calls);
    }

    @Test
    void requestsWithoutAValidTokenAre401() {
        String id = create("t-alice", "");
        for (String path : List.of(SUPPORT, SUPPORT + "/" + id, SUPPORT + "/" + id + "/messages")) {
            TestServer.Response none = http.get(path, null);
            assertThat(none.status()).as(path).isEqualTo(401);
            assertThat(none.json().get("code").asText()).isEqualTo("unauthorized");
            assertThat(http.get(path, "t-nobody").status()).as(path).isEqualTo(401);
        }
        assertThat(http.post(SUPPORT, null, "{}").status()).isEqualTo(401);
        assertThat(http.post(SUPPORT + "/" + id + "/message-streams", "wrong", message("x", "y")).status())
                .isEqualTo(401);
        assertThat(http.delete(SUPPORT + "/" + id + "/message-streams", null).status()).isEqualTo(401);
    }

    @Test
    void aWorkspaceTheTokenHasNoClaimOnIs403() {
        TestServer.Response sales = http.post("/api/v1/workspaces/sales/conversations", "t-alice", "{}");
        assertThat(sales.status()).isEqualTo(403);
        assertThat(sales.json().get("code").asText()).isEqualTo("forbidden");
        assertThat(http.get("/api/v1/workspaces/lab/conversations", "t-olivia").status())
                .as("another organization's workspace, even to an organization admin").isEqualTo(403);
        assertThat(http.get("/api/v1/workspaces/no-such-workspace/conversations", "t-olivia").status())
                .isEqualTo(403);
        assertThat(http.get("/api/v1/workspaces/sales/conversations", "t-olivia").status()).isEqualTo(200);

        String id = create("t-alice", "");
        assertThat(http.get("/api/v1/workspaces/sales/conversations/" + id + "/messages", "t-olivia").status())
                .as("a conversation the caller may see, through another workspace's path").isEqualTo(404);
        TestServer.Response elsewhere = http.get("/api/v1/workspaces/sales/conversations/" + id + "/messages", "t-bob");
        assertThat(elsewhere.status())
                .as("another workspace's conversation the caller may not see: not found, never telling it exists")
                .isEqualTo(404);
        assertThat(elsewhere.body()).isEqualTo(http.get("/api/v1/workspaces/sales/conversations/no-such-id/messages",
                "t-bob").body());
        assertThat(http.post("/api/v1/workspaces/sales/conversations/" + id + "/messages", "t-bob",
                message("leak-1", "Hi")).status()).isEqualTo(404);
        assertThat(http.get("/api/v1/workspaces/sales/conversations/" + id + "/messages", "t-alice").status())
                .isEqualTo(403);
    }

    @Test
    void anotherUsersConversationIsForbiddenToAMemberAndOpenToTheWorkspaceAdmin() {
        String id = create("t-alice", "");
        String path = SUPPORT + "/" + id;

        assertThat(http.get(path + "/messages", "t-carol").status()).isEqualTo(403);
        assertThat(http.post(path + "/messages", "t-carol", message("c-1", "Hi")).status()).isEqualTo(403);
        assertThat(http.patch(path, "t-carol", "{\"personality\":\"mine now\"}").status()).isEqualTo(403);
        assertThat(http.delete(path + "/message-streams", "t-carol").status()).isEqualTo(403);
        assertThat(http.get(path + "/messages", "t-walter").status()).isEqualTo(200);
        assertThat(http.get(path, "t-alice").json().get("personality").isNull()).isTrue();
        assertThat(messages(id, "t-alice").get("data")).isEmpty();
    }

    @Test
    void aMessageToAnUnknownConversationIs404WithoutAModelCall() {
        int calls = demo.callCount();
        TestServer.Response r = http.post(SUPPORT + "/no-such-conversation/messages", "t-alice", message("u-1", "Hi"));
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.json().get("code").asText()).isEqualTo("notFound");
        assertThat(demo.callCount()).isEqualTo(calls);
    }
}
