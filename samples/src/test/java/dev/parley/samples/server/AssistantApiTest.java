package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.api.Caller;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.values.ModelMessage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** The assistant-style API end to end: a real server on a loopback port, called with java.net.http. */
class AssistantApiTest {
    static final String CONFIG = "/dev/parley/samples/server/assistant-config.json";
    private static final AtomicInteger IDS = new AtomicInteger();

    @TempDir
    static Path data;

    static TestServer http;
    static ScriptedModel model;

    @BeforeAll
    static void start() {
        model = ScriptedModel.echo();
        http = TestServer.start(CONFIG, data, Map.of(), s -> s.withModel("demo", model).withModel("flat", model));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    /** A conversation id no test used yet. */
    static String newId() {
        return "conv-" + IDS.incrementAndGet();
    }

    /** The path of conversation {@code id} on the helpdesk's welcome chat, with {@code key}. */
    static String path(String id, String key) {
        return path(id, key, "helpdesk", "welcome");
    }

    static String path(String id, String key, String board, String chat) {
        return "/api/conversation/" + id + "?api_key=" + key + "&board_id=" + board + "&chat_id=" + chat;
    }

    static TestServer.Response ask(String id, String key, String body) {
        return http.post(path(id, key), null, body);
    }

    /** The texts of the messages the model was last sent, after the system messages. */
    static List<String> lastRequestHistory() {
        return model.lastRequest().messages().stream().filter(m -> m.role() != ModelMessage.Role.SYSTEM)
                .map(ModelMessage::text).toList();
    }

    /** The conversations of the support workspace, as its organization's admin sees them, newest first. */
    static List<ConversationInfo> supportConversations() {
        return http.server.engine().as(Caller.user("olivia", "acme").organizationAdmin().build())
                .list(ConversationQuery.inWorkspace("support", PageRequest.of(1, 100))).items();
    }

    @Test
    void theFirstPromptToAnIdStartsTheConversationAndLaterPromptsContinueIt() {
        String id = newId();
        int before = supportConversations().size();
        TestServer.Response first = ask(id, "k-alice", "{\"prompt\":\"My favourite number is 444.\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.contentType()).startsWith("application/json");
        JsonNode body = first.exactJson();
        assertThat(body.properties()).extracting(Map.Entry::getKey)
                .containsExactly("text", "credits_used", "credits_remaining");
        assertThat(body.get("text").asText()).isEqualTo("echo: My favourite number is 444.");
        assertThat(supportConversations()).hasSize(before + 1);
        assertThat(supportConversations().get(0).ownerId()).isEqualTo("alice");

        TestServer.Response second = ask(id, "k-alice", "{\"prompt\":\"What is my favourite number?\"}");
        assertThat(second.status()).isEqualTo(200);
        assertThat(lastRequestHistory()).containsExactly("My favourite number is 444.",
                "echo: My favourite number is 444.", "What is my favourite number?");
        assertThat(supportConversations()).as("the same conversation continued").hasSize(before + 1);
    }

    @Test
    void theSameIdOnAnotherChatIsAnotherConversation() {
        String id = newId();
        assertThat(ask(id, "k-alice", "{\"prompt\":\"on welcome\"}").status()).isEqualTo(200);
        TestServer.Response other = http.post(path(id, "k-alice", "helpdesk", "billing"), null,
                "{\"prompt\":\"on billing\"}");

        assertThat(other.status()).isEqualTo(200);
        assertThat(lastRequestHistory()).containsExactly("on billing");
    }

    @Test
    void boardAndChatMayComeInTheBody() {
        String id = newId();
        TestServer.Response r = http.post("/api/conversation/" + id + "?api_key=k-alice", null,
                "{\"board_id\":\"helpdesk\",\"chat_id\":\"welcome\",\"prompt\":\"hi\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(ask(id, "k-alice", "{\"prompt\":\"again\"}").status()).isEqualTo(200);
        assertThat(lastRequestHistory()).containsExactly("hi", "echo: hi", "again");

        TestServer.Response differ = http.post(path(id, "k-alice"), null,
                "{\"board_id\":\"deals\",\"prompt\":\"hi\"}");
        assertThat(differ.status()).isEqualTo(400);
        assertThat(differ.message()).startsWith("board_id: ");
    }

    @Test
    void additionalContextReachesTheModelForThisTurnOnly() {
        String id = newId();
        ask(id, "k-alice", "{\"prompt\":\"What is my favourite number?\","
                + "\"additional_context\":\"My favourite number is 444\"}");
        assertThat(model.lastRequest().messages()).extracting(ModelMessage::text)
                .contains("My favourite number is 444");

        ask(id, "k-alice", "{\"prompt\":\"And now?\",\"additional_context\":\" \"}");
        assertThat(model.lastRequest().messages()).extracting(ModelMessage::text)
                .doesNotContain("My favourite number is 444")
                .contains("What is my favourite number?", "And now?");
    }

    @Test
    void aTurnWithSaveHistoryOffIsAnsweredAndChargedButLeavesNoHistory() {
        String id = newId();
        ask(id, "k-alice", "{\"prompt\":\"kept\"}");
        TestServer.Response unsaved = ask(id, "k-alice", "{\"prompt\":\"forgotten\",\"save_history\":false}");
        assertThat(unsaved.status()).isEqualTo(200);
        assertThat(unsaved.json().get("text").asText()).isEqualTo("echo: forgotten");
        assertThat(unsaved.exactJson().get("credits_used").decimalValue()).isPositive();

        ask(id, "k-alice", "{\"prompt\":\"next\",\"save_history\":true}");
        assertThat(lastRequestHistory()).containsExactly("kept", "echo: kept", "next");
    }

    @ParameterizedTest(name = "save_history {0}")
    @ValueSource(strings = {"false", "\"false\""})
    void saveHistoryOffAsABooleanOrItsStringLeavesNoHistory(String value) {
        String id = newId();
        ask(id, "k-alice", "{\"prompt\":\"kept\",\"save_history\":\"true\"}");
        assertThat(ask(id, "k-alice", "{\"prompt\":\"forgotten\",\"save_history\":" + value + "}").status())
                .isEqualTo(200);
        ask(id, "k-alice", "{\"prompt\":\"next\"}");
        assertThat(lastRequestHistory()).containsExactly("kept", "echo: kept", "next");
    }

    @Test
    void aPlaintextStreamDeliversDeltasWithoutMarkdownThatAddUpToTheFinalText() throws Exception {
        HttpResponse<InputStream> r = http.open(path(newId(), "k-alice"), null,
                "{\"prompt\":\"Open **Settings** then choose `Reset` and _confirm_ it\",\"plaintext\":\"true\","
                        + "\"streaming\":\"active\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        List<SseEvents.Event> events;
        try (SseEvents sse = new SseEvents(r.body())) {
            events = sse.rest();
        }
        List<String> deltas = events.subList(0, events.size() - 1).stream().map(e -> e.data().get("text").asText())
                .toList();
        assertThat(deltas).isNotEmpty().noneMatch(d -> d.contains("*") || d.contains("`") || d.contains("_"));
        SseEvents.Event last = events.get(events.size() - 1);
        assertThat(last.name()).isEqualTo("final");
        assertThat(last.data().get("text").asText()).isEqualTo("echo: Open Settings then choose Reset and confirm it")
                .isEqualTo(String.join("", deltas));
    }

    @ParameterizedTest(name = "plaintext {0}")
    @ValueSource(strings = {"\"true\"", "\"active\"", "true"})
    void plaintextOnRemovesMarkdownFromTheReply(String value) {
        TestServer.Response r = ask(newId(), "k-alice",
                "{\"prompt\":\"**bold** and _soft_ and `code`\",\"plaintext\":" + value + "}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("text").asText()).isEqualTo("echo: bold and soft and code");
    }

    @ParameterizedTest(name = "plaintext {0}")
    @ValueSource(strings = {"\"false\"", "\"TRUE\"", "\"yes\"", "\"\"", "false", "null"})
    void anyOtherPlaintextValueKeepsTheMarkdown(String value) {
        TestServer.Response r = ask(newId(), "k-alice", "{\"prompt\":\"**bold**\",\"plaintext\":" + value + "}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("text").asText()).isEqualTo("echo: **bold**");
    }

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(strings = {"\"true\"", "\"active\"", "true"})
    void streamingOnAnswersWithDeltasAndOneFinalEvent(String value) throws Exception {
        String id = newId();
        HttpResponse<InputStream> r = http.open(path(id, "k-alice"), null,
                "{\"prompt\":\"stream me please\",\"streaming\":" + value + "}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<SseEvents.Event> events;
        try (SseEvents sse = new SseEvents(r.body())) {
            events = sse.rest();
        }
        List<SseEvents.Event> deltas = events.subList(0, events.size() - 1);
        assertThat(deltas).extracting(SseEvents.Event::name).containsOnly("delta");
        assertThat(deltas.stream().map(e -> e.data().get("text").asText()).reduce("", String::concat))
                .isEqualTo("echo: stream me please");
        SseEvents.Event last = events.get(events.size() - 1);
        assertThat(last.name()).isEqualTo("final");
        assertThat(last.data().get("text").asText()).isEqualTo("echo: stream me please");
        assertThat(last.data().get("credits_used").decimalValue()).isPositive();
        assertThat(last.data().has("credits_remaining")).isTrue();

        ask(id, "k-alice", "{\"prompt\":\"after the stream\"}");
        assertThat(lastRequestHistory()).as("the streamed turn is in the history")
                .containsExactly("stream me please", "echo: stream me please", "after the stream");
    }

    @ParameterizedTest(name = "streaming {0}")
    @ValueSource(strings = {"\"false\"", "\"on\"", "\"1\"", "\"Active\"", "\"\"", "false", "null"})
    void anyOtherStreamingValueAnswersWithJson(String value) {
        TestServer.Response r = ask(newId(), "k-alice", "{\"prompt\":\"hi\",\"streaming\":" + value + "}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.json().get("text").asText()).isEqualTo("echo: hi");
    }

    @Test
    void creditsRemainingFallsByExactlyWhatEachTurnUsed() {
        String id = newId();
        BigDecimal previous = null;
        BigDecimal answered = BigDecimal.ZERO;
        for (int i = 0; i < 3; i++) {
            TestServer.Response r = ask(id, "k-alice", "{\"prompt\":\"turn number " + i + "\"}");
            assertThat(r.body()).as("decimals written plainly").doesNotContainIgnoringCase("e-");
            JsonNode body = r.exactJson();
            assertThat(body.get("credits_used").isNumber()).isTrue();
            assertThat(body.get("credits_remaining").isNumber()).isTrue();
            BigDecimal used = body.get("credits_used").decimalValue();
            BigDecimal remaining = body.get("credits_remaining").decimalValue();
            assertThat(used).isPositive();
            assertThat(used.scale()).as("a fraction of a credit, every digit kept").isPositive();
            if (previous != null) {
                assertThat(remaining).isEqualByComparingTo(previous.subtract(used));
            }
            previous = remaining;
            answered = answered.add(used);
        }
        List<Message> stored = http.server.engine().as(Caller.user("alice", "acme").member("support").build())
                .get(supportConversations().get(0).id()).messages(PageRequest.of(1, 100)).items();
        BigDecimal charged = stored.stream().map(m -> m.credits().used()).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(answered).as("what the answers said is what the store charged").isEqualByComparingTo(charged);
    }

    @Test
    void aTurnBeyondTheBudgetIs402AndStoresNothing() {
        String id = newId();
        String path = path(id, "k-lena", "frugal", "tight");
        TestServer.Response first = http.post(path, null, "{\"prompt\":\"one\",\"model\":\"flat\"}");
        TestServer.Response second = http.post(path, null, "{\"prompt\":\"two\",\"model\":\"flat\"}");
        TestServer.Response third = http.post(path, null, "{\"prompt\":\"three\",\"model\":\"flat\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.exactJson().get("credits_used").decimalValue()).isEqualByComparingTo("1");
        assertThat(first.exactJson().get("credits_remaining").decimalValue()).isEqualByComparingTo("1.5");
        assertThat(second.exactJson().get("credits_remaining").decimalValue()).isEqualByComparingTo("0.5");
        assertThat(third.status()).isEqualTo(402);
        assertThat(third.json().get("success").asBoolean()).isFalse();
        assertThat(third.message()).isNotBlank();

        Caller lena = Caller.user("lena", "acme").member("lean").build();
        List<ConversationInfo> lean = http.server.engine().as(lena)
                .list(ConversationQuery.inWorkspace("lean", PageRequest.of(1, 10))).items();
        assertThat(lean).hasSize(1);
        assertThat(http.server.engine().as(lena).get(lean.get(0).id()).messages(PageRequest.of(1, 10)).items())
                .as("the refused turn stored nothing").extracting(Message::text)
                .containsExactly("one", "echo: one", "two", "echo: two");
    }

    @Test
    void aFirstPromptThatIsRefusedStartsNoConversation() {
        Caller bruno = Caller.user("bruno", "acme").member("broke").build();
        TestServer.Response broke = http.post(path(newId(), "k-bruno", "closed", "door"), null, "{\"prompt\":\"hi\"}");
        TestServer.Response unknownModel = http.post(path(newId(), "k-bruno", "closed", "door"), null,
                "{\"prompt\":\"hi\",\"model\":\"gpt-9\"}");

        assertThat(broke.status()).as(broke.body()).isEqualTo(402);
        assertThat(unknownModel.status()).isEqualTo(400);
        assertThat(unknownModel.message()).startsWith("model: ");
        assertThat(http.server.engine().as(bruno)
                .list(ConversationQuery.inWorkspace("broke", PageRequest.of(1, 10))).totalElements()).isZero();
    }

    @Test
    void userAndSourceTagsAreStoredOnTheTurnsMessages() {
        String id = newId();
        TestServer.Response r = ask(id, "k-alice", "{\"prompt\":\"tagged\",\"user\":\"customer-7\","
                + "\"source\":\"widget\"}");
        assertThat(r.status()).isEqualTo(200);
        ConversationInfo c = supportConversations().get(0);
        List<Message> messages = http.server.engine().as(Caller.user("alice", "acme").member("support").build())
                .get(c.id()).messages(PageRequest.of(1, 10)).items();
        assertThat(messages).extracting(Message::text).containsExactly("tagged", "echo: tagged");
        assertThat(messages).extracting(Message::user).containsOnly("customer-7");
        assertThat(messages).extracting(Message::source).containsOnly("widget");
    }

    @Test
    void requestsWithoutAValidApiKeyAre401() {
        String body = "{\"prompt\":\"hi\"}";
        String rest = "?board_id=helpdesk&chat_id=welcome";
        List<TestServer.Response> refused = List.of(
                http.post("/api/conversation/" + newId() + rest, null, body),
                http.post("/api/conversation/" + newId() + rest + "&api_key=", null, body),
                http.post("/api/conversation/" + newId() + rest + "&api_key=k-nobody", null, body),
                http.post("/api/conversation/" + newId() + rest + "&api_key=t-alice", null, body),
                http.post("/api/conversation/" + newId() + rest, "t-alice", body));
        int before = supportConversations().size();
        for (TestServer.Response r : refused) {
            assertThat(r.status()).as(r.body()).isEqualTo(401);
            assertThat(r.json().get("success").asBoolean()).isFalse();
            assertThat(r.message()).contains("api_key");
        }
        assertThat(supportConversations()).hasSize(before);
    }

    @Test
    void aBoardOrChatTheKeyMayNotUseIsRefused() {
        String body = "{\"prompt\":\"hi\"}";
        int calls = model.callCount();
        TestServer.Response otherWorkspace = http.post(path(newId(), "k-bob"), null, body);
        TestServer.Response otherOrganization = http.post(path(newId(), "k-gina"), null, body);
        TestServer.Response unknownBoard = http.post(path(newId(), "k-alice", "nowhere", "welcome"), null, body);
        TestServer.Response unknownChat = http.post(path(newId(), "k-alice", "helpdesk", "quotes"), null, body);
        TestServer.Response noBoard = http.post("/api/conversation/" + newId() + "?api_key=k-alice&chat_id=welcome",
                null, body);
        TestServer.Response noChat = http.post("/api/conversation/" + newId() + "?api_key=k-alice&board_id=helpdesk",
                null, body);

        assertThat(otherWorkspace.status()).isEqualTo(403);
        assertThat(otherWorkspace.message()).startsWith("board_id: ");
        assertThat(otherOrganization.status()).isEqualTo(404);
        assertThat(otherOrganization.message()).startsWith("board_id: ");
        assertThat(unknownBoard.status()).isEqualTo(404);
        assertThat(unknownChat.status()).isEqualTo(404);
        assertThat(unknownChat.message()).startsWith("chat_id: ");
        assertThat(noBoard.status()).isEqualTo(400);
        assertThat(noBoard.message()).startsWith("board_id: ");
        assertThat(noChat.status()).isEqualTo(400);
        assertThat(noChat.message()).startsWith("chat_id: ");
        assertThat(model.callCount()).as("no model call").isEqualTo(calls);
        assertThat(http.post(path(newId(), "k-olivia"), null, body).status())
                .as("an organization admin may use every board").isEqualTo(200);
    }

    @Test
    void anotherMembersConversationIsForbiddenAndOpenToTheWorkspaceAdmin() {
        String id = newId();
        ask(id, "k-alice", "{\"prompt\":\"mine\"}");

        TestServer.Response carol = ask(id, "k-carol", "{\"prompt\":\"let me in\"}");
        assertThat(carol.status()).isEqualTo(403);
        assertThat(carol.json().get("success").asBoolean()).isFalse();

        TestServer.Response walter = ask(id, "k-walter", "{\"prompt\":\"admin here\"}");
        assertThat(walter.status()).isEqualTo(200);
        assertThat(lastRequestHistory()).containsExactly("mine", "echo: mine", "admin here");
    }

    @Test
    void concurrentFirstPromptsToOneIdStartOneConversation() throws Exception {
        String id = newId();
        int before = supportConversations().size();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Callable<TestServer.Response>> calls = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                String text = "at once " + i;
                calls.add(() -> ask(id, "k-alice", "{\"prompt\":\"" + text + "\"}"));
            }
            for (Future<TestServer.Response> f : pool.invokeAll(calls, 60, TimeUnit.SECONDS)) {
                assertThat(f.get().status()).as(f.get().body()).isIn(200, 409);
            }
        } finally {
            pool.shutdown();
        }
        List<ConversationInfo> after = supportConversations();
        assertThat(after).hasSize(before + 1);
    }
}
