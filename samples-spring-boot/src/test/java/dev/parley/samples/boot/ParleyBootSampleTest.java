package dev.parley.samples.boot;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample application on a random port: a turn sent over HTTP is answered by the scripted model, kept in the
 * conversation's history (as the engine and the history endpoint both show), and replayed on a retry.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = "parley.store.type=memory")
class ParleyBootSampleTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Value("${local.server.port}")
    private int port;

    @Autowired
    private ConversationEngine engine;

    @Autowired
    private JsonMapper json;

    private HttpResponse<String> call(String method, String path, String body) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .header("X-User", "alice")
                .header("Content-Type", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aTurnOverHttpIsAnsweredByTheScriptedModelAndKeptInTheHistory() throws Exception {
        HttpResponse<String> created = call("POST", "/conversations", null);
        assertThat(created.statusCode()).isEqualTo(201);
        String id = json.readTree(created.body()).get("id").asString();

        HttpResponse<String> sent = call("POST", "/conversations/" + id + "/messages",
                "{\"text\": \"Where is my order?\", \"messageId\": \"m-1\"}");
        assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
        JsonNode reply = json.readTree(sent.body());
        assertThat(reply.get("text").asString()).isEqualTo("You asked: Where is my order?");
        assertThat(reply.get("conversationId").asString()).isEqualTo(id);
        assertThat(reply.get("model").asString()).isEqualTo("demoModel");
        assertThat(reply.get("replayed").asBoolean()).isFalse();

        // The engine's own record of the conversation holds the question and the answer.
        Caller alice = Caller.user("alice", ConversationController.ORGANIZATION)
                .member(ConversationController.WORKSPACE).build();
        List<Message> stored = engine.as(alice).get(id).messages(PageRequest.of(1, 10)).items();
        assertThat(stored).extracting(Message::role).containsExactly(Role.USER, Role.ASSISTANT);
        assertThat(stored).extracting(Message::text)
                .containsExactly("Where is my order?", "You asked: Where is my order?");

        // And so does the history endpoint.
        HttpResponse<String> history = call("GET", "/conversations/" + id + "/messages", null);
        assertThat(history.statusCode()).isEqualTo(200);
        JsonNode messages = json.readTree(history.body());
        assertThat(messages.size()).isEqualTo(2);
        assertThat(messages.get(0).get("text").asString()).isEqualTo("Where is my order?");
        assertThat(messages.get(1).get("role").asString()).isEqualTo("ASSISTANT");
        assertThat(messages.get(1).get("text").asString()).isEqualTo("You asked: Where is my order?");

        // A retry of the same message id is answered from the store, not asked again.
        HttpResponse<String> retried = call("POST", "/conversations/" + id + "/messages",
                "{\"text\": \"Where is my order?\", \"messageId\": \"m-1\"}");
        assertThat(json.readTree(retried.body()).get("replayed").asBoolean()).isTrue();
        assertThat(engine.as(alice).get(id).messages(PageRequest.of(1, 10)).items()).hasSize(2);
    }

    @Test
    void anUnknownConversationIsNotFound() throws Exception {
        HttpResponse<String> sent = call("POST", "/conversations/no-such-conversation/messages",
                "{\"text\": \"Hello\"}");
        assertThat(sent.statusCode()).isEqualTo(404);
        assertThat(json.readTree(sent.body()).get("code").asString()).isEqualTo("NOT_FOUND");
    }
}
