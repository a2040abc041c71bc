package dev.parley.samples.server;

import dev.parley.api.Caller;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * A catalogue of bad input on the assistant-style API: each gets a 4xx with {@code {success: false, message}}, the
 * message naming the field, no conversation is started, nothing is stored, no model is called, and no request gets a
 * 500.
 */
class AssistantBadInputTest {
    private static final Caller ADMIN = Caller.user("olivia", "acme").organizationAdmin().build();

    @TempDir
    static Path data;

    static TestServer http;
    static ScriptedModel model;

    @BeforeAll
    static void start() {
        model = ScriptedModel.echo();
        http = TestServer.start(AssistantApiTest.CONFIG, data, Map.of(), s -> s.withModel("demo", model));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    static String path(String id) {
        return "/api/conversation/" + id + "?api_key=k-alice&board_id=helpdesk&chat_id=welcome";
    }

    static List<ConversationInfo> conversations() {
        return http.server.engine().as(ADMIN)
                .list(ConversationQuery.inWorkspace("support", PageRequest.of(1, 100))).items();
    }

    static Stream<Arguments> bodies() {
        return Stream.of(
                arguments("no body", "", "body: "),
                arguments("not JSON", "{\"prompt\":", "body: "),
                arguments("an array", "[\"prompt\"]", "body: "),
                arguments("a string", "\"hi\"", "body: "),
                arguments("a duplicate field", "{\"prompt\":\"a\",\"prompt\":\"b\"}", "body: "),
                arguments("trailing content", "{\"prompt\":\"a\"} {}", "body: "),
                arguments("an unknown field", "{\"prompt\":\"a\",\"temperature\":1}", "temperature: "),
                arguments("a camel-case field", "{\"prompt\":\"a\",\"saveHistory\":false}", "saveHistory: "),
                arguments("no prompt", "{}", "prompt: "),
                arguments("prompt null", "{\"prompt\":null}", "prompt: "),
                arguments("prompt as a number", "{\"prompt\":42}", "prompt: "),
                arguments("prompt as an object", "{\"prompt\":{\"text\":\"a\"}}", "prompt: "),
                arguments("prompt blank", "{\"prompt\":\" \\n \"}", "prompt: "),
                arguments("prompt with NUL", "{\"prompt\":\"a\\u0000b\"}", "prompt: "),
                arguments("prompt with an unpaired surrogate", "{\"prompt\":\"a\\ud800b\"}", "prompt: "),
                arguments("prompt too long", "{\"prompt\":\"" + "a".repeat((1 << 20) + 1) + "\"}", "prompt: "),
                arguments("model unknown", "{\"prompt\":\"a\",\"model\":\"gpt-9\"}", "model: "),
                arguments("model as a number", "{\"prompt\":\"a\",\"model\":4}", "model: "),
                arguments("model with a control character", "{\"prompt\":\"a\",\"model\":\"de\\u0007mo\"}", "model: "),
                arguments("model with SQL", "{\"prompt\":\"a\",\"model\":\"demo' OR '1'='1\"}", "model: "),
                arguments("additional_context as a number", "{\"prompt\":\"a\",\"additional_context\":1}",
                        "additional_context: "),
                arguments("additional_context as an array", "{\"prompt\":\"a\",\"additional_context\":[\"x\"]}",
                        "additional_context: "),
                arguments("additional_context with NUL", "{\"prompt\":\"a\",\"additional_context\":\"x\\u0000\"}",
                        "additional_context: "),
                arguments("additional_context too long", "{\"prompt\":\"a\",\"additional_context\":\""
                        + "c".repeat((1 << 20) + 1) + "\"}", "additional_context: "),
                arguments("save_history as another string", "{\"prompt\":\"a\",\"save_history\":\"no\"}",
                        "save_history: "),
                arguments("save_history as a number", "{\"prompt\":\"a\",\"save_history\":0}", "save_history: "),
                arguments("plaintext as a number", "{\"prompt\":\"a\",\"plaintext\":1}", "plaintext: "),
                arguments("plaintext as an array", "{\"prompt\":\"a\",\"plaintext\":[\"true\"]}", "plaintext: "),
                arguments("streaming as an object", "{\"prompt\":\"a\",\"streaming\":{}}", "streaming: "),
                arguments("streaming as a number", "{\"prompt\":\"a\",\"streaming\":1}", "streaming: "),
                arguments("user as a number", "{\"prompt\":\"a\",\"user\":7}", "user: "),
                arguments("user blank", "{\"prompt\":\"a\",\"user\":\"\"}", "user: "),
                arguments("user with a control character", "{\"prompt\":\"a\",\"user\":\"u\\u0001\"}", "user: "),
                arguments("user too long", "{\"prompt\":\"a\",\"user\":\"" + "u".repeat(257) + "\"}", "user: "),
                arguments("source as an array", "{\"prompt\":\"a\",\"source\":[]}", "source: "),
                arguments("source with a bidi override", "{\"prompt\":\"a\",\"source\":\"a\\u202eb\"}", "source: "),
                arguments("board_id as a number", "{\"prompt\":\"a\",\"board_id\":5}", "board_id: "),
                arguments("chat_id other than the query's", "{\"prompt\":\"a\",\"chat_id\":\"billing\"}",
                        "chat_id: "));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bodies")
    void aBadBodyIsRefusedNamingTheFieldAndStartsNothing(String what, String body, String messageStart) {
        assertRefused(() -> http.post(path("bad-body"), null, body), 400, messageStart);
    }

    @ParameterizedTest(name = "streaming {0}")
    @MethodSource("bodies")
    void aBadStreamingBodyIsRefusedBeforeAnyEvent(String what, String body, String messageStart) {
        String streaming = body.startsWith("{\"prompt\":\"a\",") && !body.contains("\"streaming\"")
                ? "{\"streaming\":\"true\"," + body.substring(1) : body;
        assertRefused(() -> http.post(path("bad-stream"), null, streaming), 400, messageStart);
    }

    static Stream<Arguments> paths() {
        String rest = "?api_key=k-alice&board_id=helpdesk&chat_id=welcome";
        return Stream.of(
                arguments("an id too long", "/api/conversation/" + "i".repeat(129) + rest, 400, "conversationId: "),
                arguments("an id with a bidi override", "/api/conversation/a%E2%80%AEb" + rest, 400,
                        "conversationId: "),
                arguments("an id with a control character", "/api/conversation/a%01b" + rest, 400,
                        "conversationId: "),
                arguments("an id with a zero-width space", "/api/conversation/a%E2%80%8Bb" + rest, 400,
                        "conversationId: "),
                arguments("a blank board_id", "/api/conversation/x?api_key=k-alice&board_id=%20&chat_id=welcome",
                        400, "board_id: "),
                arguments("a board_id with SQL", "/api/conversation/x?api_key=k-alice&board_id="
                        + enc("helpdesk' OR '1'='1") + "&chat_id=welcome", 404, "board_id: "),
                arguments("a chat_id with NUL", "/api/conversation/x?api_key=k-alice&board_id=helpdesk&chat_id=a%00",
                        404, "chat_id: "),
                arguments("an api_key with SQL", "/api/conversation/x?api_key=" + enc("' OR 1=1 --")
                        + "&board_id=helpdesk&chat_id=welcome", 401, "unknown api_key"),
                arguments("an api_key of 4-byte unicode", "/api/conversation/x?api_key=" + enc("\uD83D\uDE00")
                        + "&board_id=helpdesk&chat_id=welcome", 401, "unknown api_key"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("paths")
    void aBadPathOrQueryIsRefusedNamingTheParameter(String what, String path, int status, String messageStart) {
        assertRefused(() -> http.post(path, null, "{\"prompt\":\"a\"}"), status, messageStart);
    }

    @Test
    void aBodyOverTheLimitIs413NamingTheBody() {
        byte[] body = ("{\"prompt\":\"" + "a".repeat((int) ParleyServer.MAX_BODY_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        assertRefused(() -> http.postBytes(path("big"), null, body), 413, "body: ");
    }

    @Test
    void bodyBytesThatAreNotUtf8AreRefused() {
        byte[] body = {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        assertRefused(() -> http.postBytes(path("latin"), null, body), 400, "body: ");
    }

    @Test
    void aPathThatJettyRefusesBeforeRoutingGetsJson() {
        TestServer.Response r = http.post("/api/conversation/a%00b?api_key=k-alice&board_id=helpdesk&chat_id=welcome",
                null, "{\"prompt\":\"a\"}");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("success").asBoolean()).isFalse();
    }

    @Test
    void fourByteUnicodeAndSqlMetacharactersAreStoredExactly() {
        String id = "x'; DROP TABLE samples_assistant_conversation;-- \uD83D\uDE00";
        String prompt = "\uD83D\uDE00 '; DROP TABLE parley_message;-- \uD83C\uDF89";
        String json = "{\"prompt\":\"" + prompt + "\",\"user\":\"\uD83D\uDE00 o'brien\","
                + "\"source\":\"x\\\"; --\",\"additional_context\":\"\uD83D\uDE00\"}";

        TestServer.Response first = http.post(path(enc(id)), null, json);
        TestServer.Response again = http.post(path(enc(id)), null, "{\"prompt\":\"again\"}");

        assertThat(first.status()).as(first.body()).isEqualTo(200);
        assertThat(first.json().get("text").asText()).isEqualTo("echo: " + prompt);
        assertThat(again.status()).isEqualTo(200);
        ConversationInfo c = conversations().get(0);
        List<Message> messages = http.server.engine().as(ADMIN).get(c.id()).messages(PageRequest.of(1, 10)).items();
        assertThat(messages).extracting(Message::text)
                .containsExactly(prompt, "echo: " + prompt, "again", "echo: again");
        assertThat(messages.get(0).user()).isEqualTo("\uD83D\uDE00 o'brien");
        assertThat(messages.get(0).source()).isEqualTo("x\"; --");
    }

    private static void assertRefused(java.util.function.Supplier<TestServer.Response> call, int status,
                                      String messageStart) {
        int conversations = conversations().size();
        int calls = model.callCount();
        TestServer.Response r = call.get();

        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).startsWith(messageStart);
        assertThat(conversations()).as("no conversation started").hasSize(conversations);
        assertThat(model.callCount()).as("no model call").isEqualTo(calls);
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
