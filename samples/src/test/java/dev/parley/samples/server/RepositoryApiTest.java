package dev.parley.samples.server;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The repository-style API end to end: a real server on a loopback port, called with java.net.http. */
class RepositoryApiTest {
    static final String CONFIG = "/dev/parley/samples/server/test-config.json";

    @TempDir
    static Path data;

    static TestServer http;

    @BeforeAll
    static void start() {
        http = TestServer.start(CONFIG, data, Map.of("TEST_BYOK_KEY", "sk-test", "TEST_BYOK_URL",
                TestServer.closedPortUrl()));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    @Test
    void aMemberCreatesAConversationOnARepositoryAndPromptsIt() {
        TestServer.Response created = http.post("/conversation", "t-alice", "{\"repoId\":\"handbook\"}");
        assertThat(created.status()).isEqualTo(200);
        assertThat(created.contentType()).startsWith("application/json");
        assertThat(created.json().get("success").asBoolean()).isTrue();
        String id = created.json().get("conversationId").asText();

        TestServer.Response reply = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"My favourite number is 444.\"}");
        assertThat(reply.status()).isEqualTo(200);
        JsonNode body = reply.json();
        assertThat(body.get("success").asBoolean()).isTrue();
        assertThat(body.get("message").asText()).isEqualTo("Prompt processed");
        assertThat(body.get("reply").asText()).contains("My favourite number is 444.");
        assertThat(body.get("model").asText()).isEqualTo("demo");
        assertThat(body.get("tokensIn").asLong()).isPositive();
        assertThat(body.get("tokensOut").asLong()).isPositive();
        assertThat(body.get("creditsUsed").decimalValue()).isPositive();
        assertThat(body.get("replayed").asBoolean()).isFalse();

        TestServer.Response second = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"What is it?\"}");
        assertThat(second.json().get("reply").asText()).contains("2 earlier messages");
        assertThat(second.json().get("totalTokensIn").asLong())
                .isEqualTo(body.get("tokensIn").asLong() + second.json().get("tokensIn").asLong());

        JsonNode messages = http.get("/conversation/" + id + "/messages", "t-alice").json();
        assertThat(messages.get("messages")).hasSize(4);
        assertThat(messages.get("messages").get(0).get("role").asText()).isEqualTo("user");
        assertThat(messages.get("messages").get(0).get("content").asText()).isEqualTo("My favourite number is 444.");
        assertThat(messages.get("messages").get(1).get("role").asText()).isEqualTo("assistant");
        assertThat(messages.get("messages").get(1).get("content").asText()).isEqualTo(body.get("reply").asText());
        assertThat(messages.get("page").get("totalElements").asLong()).isEqualTo(4);
    }

    @Test
    void aReplayedIdempotencyKeyReturnsTheStoredReplyAndStoresNothingMore() {
        String id = http.create("t-alice", "handbook");
        Map<String, String> key = Map.of("Idempotency-Key", "turn-1");
        TestServer.Response first = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"Hi\"}", key);
        TestServer.Response again = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"Hi\"}", key);

        assertThat(again.status()).isEqualTo(200);
        assertThat(again.json().get("replayed").asBoolean()).isTrue();
        assertThat(again.json().get("messageId").asText()).isEqualTo(first.json().get("messageId").asText());
        assertThat(again.json().get("reply").asText()).isEqualTo(first.json().get("reply").asText());
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("messages")).hasSize(2);

        TestServer.Response other = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"Bye\"}", key);
        assertThat(other.status()).isEqualTo(400);
        assertThat(other.message()).startsWith("Idempotency-Key: ");
    }

    @Test
    void conversationsAreListedNewestFirstInPagesAndFilteredByWorkspaceOrRepository() {
        List<String> created = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            created.add(http.create("t-pat", "pricing"));
        }
        String inSupport = http.create("t-pat", "handbook");

        JsonNode page1 = http.get("/conversation?workspaceId=sales&size=2", "t-pat").json();
        assertThat(page1.get("page").get("totalElements").asLong()).isEqualTo(5);
        assertThat(page1.get("page").get("totalPages").asInt()).isEqualTo(3);
        assertThat(page1.get("page").get("currentPage").asInt()).isEqualTo(1);
        assertThat(ids(page1)).containsExactly(created.get(4), created.get(3));
        JsonNode page3 = http.get("/conversation?workspaceId=sales&size=2&page=3", "t-pat").json();
        assertThat(ids(page3)).containsExactly(created.get(0));
        assertThat(page3.get("conversations").get(0).get("repoId").asText()).isEqualTo("pricing");
        assertThat(page3.get("conversations").get(0).get("workspaceId").asText()).isEqualTo("sales");

        assertThat(ids(http.get("/conversation?repoId=handbook", "t-pat").json())).containsExactly(inSupport);
        assertThat(http.get("/conversation", "t-pat").json().get("page").get("totalElements").asLong()).isEqualTo(6);
        assertThat(http.get("/conversation?repoId=pricing", "t-bob").json().get("conversations"))
                .as("a member sees only their own").isEmpty();
    }

    @Test
    void messagesArePagedOldestFirst() {
        String id = http.create("t-alice", "handbook");
        for (int i = 1; i <= 3; i++) {
            assertThat(http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"turn " + i + "\"}")
                    .status()).isEqualTo(200);
        }
        JsonNode page2 = http.get("/conversation/" + id + "/messages?page=2&size=4", "t-alice").json();
        assertThat(page2.get("page").get("totalElements").asLong()).isEqualTo(6);
        assertThat(page2.get("page").get("totalPages").asInt()).isEqualTo(2);
        assertThat(page2.get("messages")).hasSize(2);
        assertThat(page2.get("messages").get(0).get("content").asText()).isEqualTo("turn 3");
    }

    @Test
    void adminsReachTheConversationsTheyManageAndUsersOnlyTheirOwn() {
        String id = http.create("t-alice", "handbook");
        String path = "/conversation/" + id + "/messages";

        assertThat(http.get(path, "t-olivia").status()).as("organization admin").isEqualTo(200);
        assertThat(http.get(path, "t-walter").status()).as("admin of the workspace").isEqualTo(200);
        assertThat(http.get(path, "t-carol").status()).as("another member of the workspace").isEqualTo(403);
        assertThat(http.get(path, "t-bob").status()).as("a member of another workspace").isEqualTo(403);
        assertThat(http.get(path, "t-gina").status()).as("a user of another organization").isEqualTo(404);
        assertThat(http.post("/conversation/" + id + "/prompt", "t-bob", "{\"prompt\":\"hi\"}").status())
                .isEqualTo(403);
        assertThat(http.delete("/conversation/" + id, "t-carol").status()).isEqualTo(403);
        assertThat(http.get(path, "t-alice").json().get("messages")).as("nothing stored by refused calls").isEmpty();
    }

    @Test
    void creatingNeedsARoleInTheRepositorysWorkspace() {
        TestServer.Response r = http.post("/conversation", "t-bob", "{\"repoId\":\"handbook\"}");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(http.post("/conversation", "t-olivia", "{\"repoId\":\"handbook\"}").status())
                .as("an organization admin may use every workspace").isEqualTo(200);
    }

    @Test
    void anUnknownRepositoryIsNotFoundAndAnOrphanOneIsABadRequest() {
        TestServer.Response unknown = http.post("/conversation", "t-alice", "{\"repoId\":\"nowhere\"}");
        assertThat(unknown.status()).isEqualTo(404);
        assertThat(unknown.json().get("success").asBoolean()).isFalse();
        assertThat(unknown.message()).contains("nowhere");

        TestServer.Response orphan = http.post("/conversation", "t-olivia", "{\"repoId\":\"attic\"}");
        assertThat(orphan.status()).isEqualTo(400);
        assertThat(orphan.message()).startsWith("repoId: ");

        assertThat(http.post("/conversation", "t-gina", "{\"repoId\":\"handbook\"}").status())
                .as("another organization's repository").isEqualTo(404);
    }

    @Test
    void aDeletedConversationIsGoneFromEveryReadAndList() {
        String id = http.create("t-alice", "handbook");
        TestServer.Response deleted = http.delete("/conversation/" + id, "t-alice");
        assertThat(deleted.status()).isEqualTo(200);
        assertThat(deleted.json().get("success").asBoolean()).isTrue();

        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").status()).isEqualTo(404);
        assertThat(http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"hi\"}").status())
                .isEqualTo(404);
        assertThat(http.delete("/conversation/" + id, "t-alice").status()).isEqualTo(404);
        assertThat(ids(http.get("/conversation?size=100", "t-alice").json())).doesNotContain(id);
    }

    @Test
    void aBlockedPromptIs422NamingThePolicyNotTheSecretAndStoresNoMessage() {
        String id = http.create("t-alice", "handbook");
        String secret = "AKIAIOSFODNN7EXAMPLE";
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"my key is " + secret + "\"}");

        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).contains("secrets").doesNotContain(secret);
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("messages")).isEmpty();

        JsonNode violations = http.get("/conversation/" + id + "/violations", "t-walter").json();
        assertThat(violations.get("violations")).hasSize(1);
        assertThat(violations.get("violations").get(0).get("policy").asText()).isEqualTo("secrets");
        assertThat(violations.get("violations").get(0).get("action").asText()).isEqualTo("BLOCK");
        assertThat(violations.toString()).doesNotContain(secret);
    }

    @Test
    void violationsAreListedToAdminsAndRefusedToMembers() {
        String id = http.create("t-alice", "handbook");
        http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"mail me at alice@example.com\"}");

        TestServer.Response asAdmin = http.get("/conversation/" + id + "/violations", "t-olivia");
        assertThat(asAdmin.status()).isEqualTo(200);
        assertThat(asAdmin.json().get("violations").get(0).get("category").asText()).isEqualTo("PII_EMAIL");
        assertThat(asAdmin.json().get("violations").get(0).get("excerpt").asText()).doesNotContain("alice@example.com");
        assertThat(http.get("/conversation/" + id + "/violations", "t-walter").status()).isEqualTo(200);

        TestServer.Response asMember = http.get("/conversation/" + id + "/violations", "t-alice");
        assertThat(asMember.status()).isEqualTo(403);
        assertThat(asMember.json().get("success").asBoolean()).isFalse();
    }

    @Test
    void aRedactedPromptIsStoredAndAnsweredWithoutTheAddress() {
        String id = http.create("t-alice", "handbook");
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-alice",
                "{\"prompt\":\"write to alice@example.com\"}");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("reply").asText()).doesNotContain("alice@example.com");
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").body()).doesNotContain("alice@example.com");
    }

    @Test
    void aRepositoryWithoutCreditsGets402AndNothingIsStored() {
        String id = http.create("t-alice", "unpaid");
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"hello\"}");
        assertThat(r.status()).isEqualTo(402);
        assertThat(r.json().get("success").asBoolean()).isFalse();
        assertThat(r.message()).contains("budget exceeded");
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("messages")).isEmpty();
    }

    @Test
    void aRepositorysOwnModelThatCannotBeReachedGets502AndNothingIsStored() {
        String id = http.create("t-alice", "byok");
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", "t-alice", "{\"prompt\":\"hello\"}");
        assertThat(r.status()).isEqualTo(502);
        assertThat(r.message()).contains("demo").doesNotContain("sk-test");
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("messages")).isEmpty();
    }

    @Test
    void everyCallNeedsAKnownBearerToken() {
        String id = http.create("t-alice", "handbook");
        for (String token : new String[] {null, "wrong", ""}) {
            assertThat(http.post("/conversation", token, "{\"repoId\":\"handbook\"}").status()).isEqualTo(401);
            assertThat(http.get("/conversation/" + id + "/messages", token).status()).isEqualTo(401);
            assertThat(http.get("/conversation", token).status()).isEqualTo(401);
            assertThat(http.delete("/conversation/" + id, token).status()).isEqualTo(401);
            assertThat(http.post("/conversation/" + id + "/prompt", token, "{\"prompt\":\"x\"}").status()).isEqualTo(401);
        }
        TestServer.Response basic = http.send(http.request("/conversation", null).GET()
                .header("Authorization", "Basic YWxpY2U6c2VjcmV0"));
        assertThat(basic.status()).isEqualTo(401);
        assertThat(basic.json().get("success").asBoolean()).isFalse();
        assertThat(http.get("/conversation/" + id + "/messages", "t-alice").json().get("messages")).isEmpty();
    }

    @Test
    void healthSaysTheStoreAnswers() {
        TestServer.Response r = http.get("/health", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("UP");
    }

    @Test
    void unknownPathsAndMethodsGetJsonErrors() {
        TestServer.Response path = http.get("/nowhere", "t-alice");
        assertThat(path.status()).isEqualTo(404);
        assertThat(path.json().get("success").asBoolean()).isFalse();
        TestServer.Response method = http.send(http.request("/conversation", "t-alice")
                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(method.status()).isEqualTo(405);
        assertThat(method.json().get("success").asBoolean()).isFalse();
    }

    private static List<String> ids(JsonNode list) {
        List<String> ids = new ArrayList<>();
        list.get("conversations").forEach(c -> ids.add(c.get("conversationId").asText()));
        return ids;
    }
}
