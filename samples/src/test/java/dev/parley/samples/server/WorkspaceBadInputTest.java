package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * A catalogue of bad input on the workspace-style API: each gets a 4xx with {@code {code, message}}, the message
 * naming the field, nothing is stored, no model is called, and no request gets a 500.
 */
class WorkspaceBadInputTest {
    private static final String SUPPORT = WorkspaceApiTest.SUPPORT;
    private static final String LONG_ID = "m".repeat(129);
    private static final String TOO_LONG_TEXT = "a".repeat((1 << 20) + 1);

    @TempDir
    static Path data;

    static TestServer http;
    static ScriptedModel model;
    static String conversation;

    @BeforeAll
    static void start() {
        model = ScriptedModel.echo();
        http = TestServer.start(WorkspaceApiTest.CONFIG, data, Map.of(),
                s -> s.withModel("demo", model).withModel("slow", model));
        TestServer.Response r = http.post(SUPPORT, "t-carol", "{\"personality\":\"terse\"}");
        assertThat(r.status()).isEqualTo(201);
        conversation = r.json().get("id").asText();
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    static Stream<Arguments> steeringBodies() {
        return Stream.of(
                arguments("not JSON", "{\"personality\":", "body: "),
                arguments("an array", "[]", "body: "),
                arguments("a duplicate field", "{\"personality\":\"a\",\"personality\":\"b\"}", "body: "),
                arguments("an unknown field", "{\"title\":\"x\"}", "title: "),
                arguments("a snake-case field", "{\"brand_voice_id\":\"friendly\"}", "brand_voice_id: "),
                arguments("personality as a number", "{\"personality\":5}", "personality: "),
                arguments("personality blank", "{\"personality\":\"  \"}", "personality: "),
                arguments("personality with NUL", "{\"personality\":\"a\\u0000b\"}", "personality: "),
                arguments("personality too long", "{\"personality\":\"" + "p".repeat(16_385) + "\"}",
                        "personality: "),
                arguments("personalityId as a string", "{\"personalityId\":\"42\"}", "personalityId: "),
                arguments("personalityId as a fraction", "{\"personalityId\":4.2}", "personalityId: "),
                arguments("personalityId negative", "{\"personalityId\":-1}", "personalityId: "),
                arguments("personalityId too big", "{\"personalityId\":123456789012345678901234}", "personalityId: "),
                arguments("brandVoiceId unknown", "{\"brandVoiceId\":\"shouty\"}", "brandVoiceId: "),
                arguments("brandVoiceId blank", "{\"brandVoiceId\":\"\"}", "brandVoiceId: "),
                arguments("brandVoiceId as an object", "{\"brandVoiceId\":{}}", "brandVoiceId: "),
                arguments("brandVoiceId with SQL", "{\"brandVoiceId\":\"x' OR '1'='1\"}", "brandVoiceId: "),
                arguments("targetAudienceId 4-byte unicode", "{\"targetAudienceId\":\"\uD83D\uDE00\"}",
                        "targetAudienceId: "),
                arguments("targetAudienceId with a bidi override", "{\"targetAudienceId\":\"a\\u202eb\"}",
                        "targetAudienceId: "),
                arguments("modelName unknown", "{\"modelName\":\"gpt-9\"}", "modelName: "),
                arguments("modelName as true", "{\"modelName\":true}", "modelName: "),
                arguments("modelName with a control character", "{\"modelName\":\"de\\u0007mo\"}", "modelName: "));
    }

    @ParameterizedTest(name = "create with {0}")
    @MethodSource("steeringBodies")
    void aBadCreateBodyIsRefusedNamingTheField(String what, String body, String messageStart) {
        long before = conversations();
        TestServer.Response r = http.post(SUPPORT, "t-carol", body);

        assertRefused(r, 400, messageStart);
        assertThat(conversations()).as("nothing stored").isEqualTo(before);
    }

    @ParameterizedTest(name = "patch with {0}")
    @MethodSource("steeringBodies")
    void aBadPatchBodyIsRefusedNamingTheFieldAndChangesNothing(String what, String body, String messageStart) {
        JsonNode before = http.get(SUPPORT + "/" + conversation, "t-carol").json();
        TestServer.Response r = http.patch(SUPPORT + "/" + conversation, "t-carol", body);

        assertRefused(r, 400, messageStart);
        assertThat(http.get(SUPPORT + "/" + conversation, "t-carol").json()).isEqualTo(before);
    }

    static Stream<Arguments> messageBodies() {
        return Stream.of(
                arguments("not JSON", "text=hello", "body: "),
                arguments("empty", "", "body: "),
                arguments("a string", "\"hello\"", "body: "),
                arguments("trailing content", "{\"id\":\"a\",\"text\":\"b\"} x", "body: "),
                arguments("an unknown field", "{\"id\":\"a\",\"text\":\"b\",\"role\":\"system\"}", "role: "),
                arguments("no id", "{\"text\":\"hi\"}", "id: "),
                arguments("id null", "{\"id\":null,\"text\":\"hi\"}", "id: "),
                arguments("id as a number", "{\"id\":7,\"text\":\"hi\"}", "id: "),
                arguments("id blank", "{\"id\":\" \",\"text\":\"hi\"}", "id: "),
                arguments("id too long", "{\"id\":\"" + LONG_ID + "\",\"text\":\"hi\"}", "id: "),
                arguments("id with NUL", "{\"id\":\"a\\u0000b\",\"text\":\"hi\"}", "id: "),
                arguments("id with a zero-width space", "{\"id\":\"a\\u200bb\",\"text\":\"hi\"}", "id: "),
                arguments("no text", "{\"id\":\"a\"}", "text: "),
                arguments("text null", "{\"id\":\"a\",\"text\":null}", "text: "),
                arguments("text as an array", "{\"id\":\"a\",\"text\":[\"hi\"]}", "text: "),
                arguments("text blank", "{\"id\":\"a\",\"text\":\"\\n\\t \"}", "text: "),
                arguments("text with NUL", "{\"id\":\"a\",\"text\":\"h\\u0000i\"}", "text: "),
                arguments("text with an unpaired surrogate", "{\"id\":\"a\",\"text\":\"h\\ud800i\"}", "text: "),
                arguments("text too long", "{\"id\":\"a\",\"text\":\"" + TOO_LONG_TEXT + "\"}", "text: "),
                arguments("createdAt not a date", "{\"id\":\"a\",\"text\":\"hi\",\"createdAt\":\"yesterday\"}",
                        "createdAt: "),
                arguments("createdAt without an offset",
                        "{\"id\":\"a\",\"text\":\"hi\",\"createdAt\":\"2024-05-01T12:00:00\"}", "createdAt: "),
                arguments("createdAt as a number", "{\"id\":\"a\",\"text\":\"hi\",\"createdAt\":1714564800}",
                        "createdAt: "),
                arguments("createdAt far in the future",
                        "{\"id\":\"a\",\"text\":\"hi\",\"createdAt\":\"2999-01-01T00:00:00Z\"}", "createdAt: "),
                arguments("contextSize zero", "{\"id\":\"a\",\"text\":\"hi\",\"contextSize\":0}", "contextSize: "),
                arguments("contextSize as a string", "{\"id\":\"a\",\"text\":\"hi\",\"contextSize\":\"4000\"}",
                        "contextSize: "),
                arguments("contextSize a fraction", "{\"id\":\"a\",\"text\":\"hi\",\"contextSize\":1.5}",
                        "contextSize: "),
                arguments("contextSize too big", "{\"id\":\"a\",\"text\":\"hi\",\"contextSize\":99999999999}",
                        "contextSize: "),
                arguments("additionalContext a string",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":\"owls\"}", "additionalContext: "),
                arguments("additionalContext of strings",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[\"owls\"]}", "additionalContext[0]: "),
                arguments("a snippet without content",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"id\":\"c\"}]}",
                        "additionalContext[0].content: "),
                arguments("a snippet with null content",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\"ok\"},{\"content\":null}]}",
                        "additionalContext[1].content: "),
                arguments("a snippet with blank content",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\" \"}]}",
                        "additionalContext[0].content: "),
                arguments("a snippet with NUL",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\"a\\u0000\"}]}",
                        "additionalContext[0].content: "),
                arguments("a snippet with an unknown field",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\"x\",\"categoryName\":\"y\"}]}",
                        "additionalContext[0].categoryName: "),
                arguments("a snippet with a numeric category",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\"x\",\"category_name\":3}]}",
                        "additionalContext[0].category_name: "),
                arguments("a snippet with a control character in its id",
                        "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":[{\"content\":\"x\",\"id\":\"c\\u0001\"}]}",
                        "additionalContext[0].id: "),
                arguments("too many snippets", "{\"id\":\"a\",\"text\":\"hi\",\"additionalContext\":["
                        + "{\"content\":\"x\"},".repeat(64) + "{\"content\":\"x\"}]}", "additionalContext: "));
    }

    @ParameterizedTest(name = "message with {0}")
    @MethodSource("messageBodies")
    void aBadMessageBodyIsRefusedNamingTheField(String what, String body, String messageStart) {
        assertMessageRefused("/messages", body, messageStart);
    }

    @ParameterizedTest(name = "stream with {0}")
    @MethodSource("messageBodies")
    void aBadStreamBodyIsRefusedNamingTheFieldBeforeAnyEvent(String what, String body, String messageStart) {
        assertMessageRefused("/message-streams", body, messageStart);
    }

    private static void assertMessageRefused(String endpoint, String body, String messageStart) {
        int calls = model.callCount();
        TestServer.Response r = http.post(SUPPORT + "/" + conversation + endpoint, "t-carol", body);

        assertRefused(r, 400, messageStart);
        assertThat(messages()).as("nothing stored").isZero();
        assertThat(model.callCount()).as("no model call").isEqualTo(calls);
    }

    @Test
    void aBodyOverTheLimitIs413NamingTheBody() {
        byte[] body = ("{\"id\":\"big\",\"text\":\"" + "a".repeat((int) ParleyServer.MAX_BODY_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        TestServer.Response r = http.postBytes(SUPPORT + "/" + conversation + "/messages", "t-carol", body);
        assertRefused(r, 413, "body: ");
        assertThat(messages()).isZero();
    }

    @Test
    void fourByteUnicodeAndSqlMetacharactersAreStoredExactly() {
        TestServer.Response created = http.post(SUPPORT, "t-carol", "{\"personality\":\"\uD83D\uDE00 '; DROP TABLE x;--\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("id").asText();
        String text = "\uD83D\uDE00 \uD834\uDD1E Robert'); DROP TABLE parley_message;-- \\ \"q\" %_";
        String messageId = "id-\uD83D\uDE00-' OR '1'='1";
        TestServer.Response r = http.post(SUPPORT + "/" + id + "/messages", "t-carol",
                "{\"id\":" + TextNode.valueOf(messageId) + ",\"text\":" + TextNode.valueOf(text) + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);

        JsonNode stored = http.get(SUPPORT + "/" + id + "/messages", "t-carol").json().get("data");
        assertThat(stored.get(0).get("id").asText()).isEqualTo(messageId);
        assertThat(stored.get(0).get("text").asText()).isEqualTo(text);
        assertThat(http.get(SUPPORT + "/" + id, "t-carol").json().get("personality").asText())
                .isEqualTo("\uD83D\uDE00 '; DROP TABLE x;--");
    }

    static Stream<Arguments> badPaths() {
        String c = "/" + "CONV";
        return Stream.of(
                arguments(SUPPORT + "?page=0", 400, "page: "),
                arguments(SUPPORT + "?page=-1", 400, "page: "),
                arguments(SUPPORT + "?page=x", 400, "page: "),
                arguments(SUPPORT + "?size=0", 400, "size: "),
                arguments(SUPPORT + "?size=101", 400, "size: "),
                arguments(SUPPORT + "?size=99999999999", 400, "size: "),
                arguments(SUPPORT + c + "/messages?page=0", 400, "page: "),
                arguments(SUPPORT + c + "/messages?size=101", 400, "size: "),
                arguments(SUPPORT + "/" + "c".repeat(129) + "/messages", 400, "conversationId: "),
                arguments(SUPPORT + "/no-such-conversation", 404, "conversation not found"),
                arguments(SUPPORT + "/x'%20OR%20'1'='1/messages", 404, "conversation not found"),
                arguments(SUPPORT + "/%F0%9F%98%80/messages", 404, "conversation not found"),
                arguments("/api/v1/workspaces/x'%20OR%20'1'='1/conversations", 403, "workspaceId: "),
                arguments("/api/v1/workspaces/support/nothing-here", 404, "no such endpoint"));
    }

    @ParameterizedTest(name = "GET {0}")
    @MethodSource("badPaths")
    void aBadQueryOrPathIsRefusedNamingTheParameter(String path, int status, String messageStart) {
        TestServer.Response r = http.get(path.replace("CONV", conversation), "t-carol");
        assertRefused(r, status, messageStart);
    }

    @Test
    void aPathThatJettyRefusesBeforeRoutingGetsJsonNotAnHtmlPage() {
        TestServer.Response r = http.get("/api/v1/workspaces/%00/conversations", "t-carol");
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.json().get("code").asText()).isEqualTo("invalidRequest");
        assertThat(r.message()).startsWith("request: ");
    }

    @Test
    void anUnsupportedMethodIs405InThisApisShape() {
        TestServer.Response r = http.send(http.request(SUPPORT + "/" + conversation + "/message-streams", "t-carol")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{}")));
        assertRefused(r, 405, "method not allowed");
    }

    private static void assertRefused(TestServer.Response r, int status, String messageStart) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.contentType()).startsWith("application/json");
        assertThat(r.json().get("code").asText()).isNotBlank();
        assertThat(r.json().has("success")).as("this API's error shape").isFalse();
        assertThat(r.message()).startsWith(messageStart);
    }

    private static long conversations() {
        return http.get(SUPPORT + "?size=1", "t-carol").json().get("page").get("totalElements").asLong();
    }

    private static long messages() {
        return http.get(SUPPORT + "/" + conversation + "/messages", "t-carol").json()
                .get("page").get("totalElements").asLong();
    }
}
