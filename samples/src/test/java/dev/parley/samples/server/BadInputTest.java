package dev.parley.samples.server;

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
 * A catalogue of bad input on the repository-style API: each gets a 4xx with {@code success: false} and a message
 * that names the field, nothing is stored, and no request gets a 500.
 */
class BadInputTest {
    private static final String LONG_ID = "r".repeat(129);

    @TempDir
    static Path data;

    static TestServer http;
    static String conversation;

    @BeforeAll
    static void start() {
        http = TestServer.start(RepositoryApiTest.CONFIG, data, Map.of("TEST_BYOK_KEY", "k", "TEST_BYOK_URL",
                TestServer.closedPortUrl()));
        conversation = http.create("t-carol", "handbook");
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    static Stream<Arguments> createBodies() {
        return Stream.of(
                arguments("not JSON", "{\"repoId\":", 400, "body: "),
                arguments("an array", "[\"handbook\"]", 400, "body: "),
                arguments("a string", "\"handbook\"", 400, "body: "),
                arguments("empty", "", 400, "body: "),
                arguments("trailing content", "{\"repoId\":\"handbook\"} {}", 400, "body: "),
                arguments("a duplicate field", "{\"repoId\":\"handbook\",\"repoId\":\"pricing\"}", 400, "body: "),
                arguments("a number", "{\"repoId\":123}", 400, "repoId: "),
                arguments("a boolean", "{\"repoId\":true}", 400, "repoId: "),
                arguments("an object", "{\"repoId\":{\"id\":\"handbook\"}}", 400, "repoId: "),
                arguments("null", "{\"repoId\":null}", 400, "repoId: "),
                arguments("missing", "{}", 400, "repoId: "),
                arguments("blank", "{\"repoId\":\"   \"}", 400, "repoId: "),
                arguments("too long", "{\"repoId\":\"" + LONG_ID + "\"}", 400, "repoId: "),
                arguments("NUL", "{\"repoId\":\"hand\\u0000book\"}", 400, "repoId: "),
                arguments("a bidi override", "{\"repoId\":\"hand\\u202ebook\"}", 400, "repoId: "),
                arguments("an unpaired surrogate", "{\"repoId\":\"\\ud800\"}", 400, "repoId: "),
                arguments("an unknown field", "{\"repoId\":\"handbook\",\"workspaceId\":\"support\"}", 400,
                        "workspaceId: "),
                arguments("an unknown field with a control character", "{\"a\\u0007\":1}", 400, "a\\u0007: "),
                arguments("4-byte unicode", "{\"repoId\":\"\uD83D\uDE00\"}", 404, "repository not found"),
                arguments("SQL metacharacters", "{\"repoId\":\"x'; DROP TABLE parley_conversation; --\"}", 404,
                        "repository not found"));
    }

    @ParameterizedTest(name = "create with {0}")
    @MethodSource("createBodies")
    void aBadCreateBodyIsRefusedNamingTheField(String what, String body, int status, String messageStart) {
        TestServer.Response r = http.post("/conversation", "t-carol", body);

        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).startsWith(messageStart);
        assertThat(http.get("/conversation", "t-carol").json().get("page").get("totalElements").asLong())
                .as("nothing stored").isEqualTo(1);
    }

    static Stream<Arguments> promptBodies() {
        return Stream.of(
                arguments("not JSON", "prompt=hello", "body: "),
                arguments("a number", "{\"prompt\":42}", "prompt: "),
                arguments("an array", "{\"prompt\":[\"hello\"]}", "prompt: "),
                arguments("null", "{\"prompt\":null}", "prompt: "),
                arguments("missing", "{}", "prompt: "),
                arguments("empty", "{\"prompt\":\"\"}", "prompt: "),
                arguments("blank", "{\"prompt\":\" \\n\\t \"}", "prompt: "),
                arguments("NUL", "{\"prompt\":\"a\\u0000b\"}", "prompt: "),
                arguments("an unpaired surrogate", "{\"prompt\":\"a\\udc00b\"}", "prompt: "),
                arguments("an unknown field", "{\"prompt\":\"hi\",\"model\":\"demo\"}", "model: "),
                arguments("longer than the engine takes", "{\"prompt\":\"" + "a".repeat((1 << 20) + 1) + "\"}",
                        "prompt: "));
    }

    @ParameterizedTest(name = "prompt with {0}")
    @MethodSource("promptBodies")
    void aBadPromptBodyIsRefusedNamingTheField(String what, String body, String messageStart) {
        TestServer.Response r = http.post("/conversation/" + conversation + "/prompt", "t-carol", body);

        assertThat(r.status()).as(r.body()).isEqualTo(400);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).startsWith(messageStart);
        assertThat(messages()).as("nothing stored").isZero();
    }

    @Test
    void aBadIdempotencyKeyIsRefusedNamingTheHeader() {
        TestServer.Response r = http.post("/conversation/" + conversation + "/prompt", "t-carol",
                "{\"prompt\":\"hi\"}", Map.of("Idempotency-Key", LONG_ID));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.message()).startsWith("Idempotency-Key: ");
        assertThat(messages()).isZero();
    }

    @Test
    void aBodyOverTheLimitIs413NamingTheBody() {
        byte[] body = ("{\"prompt\":\"" + "a".repeat((int) ParleyServer.MAX_BODY_BYTES) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        TestServer.Response r = http.postBytes("/conversation/" + conversation + "/prompt", "t-carol", body);
        assertThat(r.status()).isEqualTo(413);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).startsWith("body: ");
        assertThat(messages()).isZero();
    }

    @Test
    void bodyBytesThatAreNotUtf8AreRefused() {
        byte[] body = {'{', '"', 'p', 'r', 'o', 'm', 'p', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        TestServer.Response r = http.postBytes("/conversation/" + conversation + "/prompt", "t-carol", body);
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.message()).startsWith("body: ");
        assertThat(messages()).isZero();
    }

    @Test
    void fourByteUnicodeAndSqlMetacharactersInAPromptAreStoredExactly() {
        String id = http.create("t-carol", "handbook");
        String text = "\uD83D\uDE00 \uD834\uDD1E emoji and a clef; Robert'); DROP TABLE parley_message;-- \\ \"q\" %_";
        String json = "{\"prompt\":" + new com.fasterxml.jackson.databind.node.TextNode(text) + "}";
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-carol", json);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(http.get("/conversation/" + id + "/messages", "t-carol").json().get("messages").get(0)
                .get("content").asText()).isEqualTo(text);
        http.delete("/conversation/" + id, "t-carol");
    }

    static Stream<Arguments> badQueries() {
        return Stream.of(
                arguments("/conversation?page=0", 400, "page: "),
                arguments("/conversation?page=-1", 400, "page: "),
                arguments("/conversation?page=abc", 400, "page: "),
                arguments("/conversation?page=99999999999", 400, "page: "),
                arguments("/conversation?size=0", 400, "size: "),
                arguments("/conversation?size=101", 400, "size: "),
                arguments("/conversation?size=1.5", 400, "size: "),
                arguments("/conversation?workspaceId=%20", 400, "workspaceId: "),
                arguments("/conversation?repoId=a%00b", 400, "repoId: "),
                arguments("/conversation?repoId=" + LONG_ID, 400, "repoId: "),
                arguments("/conversation/" + LONG_ID + "/messages", 400, "conversationId: "),
                arguments("/conversation/no-such-conversation/messages", 404, "conversation not found"),
                arguments("/conversation/x'%20OR%20'1'='1/messages", 404, "conversation not found"),
                arguments("/conversation/%F0%9F%98%80/messages", 404, "conversation not found"));
    }

    @ParameterizedTest(name = "GET {0}")
    @MethodSource("badQueries")
    void aBadQueryOrPathIsRefusedNamingTheParameter(String path, int status, String messageStart) {
        TestServer.Response r = http.get(path, "t-carol");
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).startsWith(messageStart);
    }

    private static long messages() {
        return http.get("/conversation/" + conversation + "/messages", "t-carol").json()
                .get("page").get("totalElements").asLong();
    }
}
