package dev.parley.core.openai;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ErrorCode;
import dev.parley.api.Message;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Usage;
import dev.parley.core.LangChain4jModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real langchain4j-open-ai adapter, over HTTP, against a local OpenAI-compatible server. */
class OpenAiAdapterTest {
    private final Caller alice = Caller.user("alice", "org").member("ws").build();
    private LocalOpenAiServer server;
    private ConversationEngine engine;

    @BeforeEach
    void start() throws Exception {
        server = new LocalOpenAiServer();
        engine = engineWithTimeout(Duration.ofSeconds(10));
    }

    private ConversationEngine engineWithTimeout(Duration timeout) {
        return ConversationEngine.builder().model("gpt-4o-mini", LangChain4jModel.of(server.chatModel(timeout))).build();
    }

    @AfterEach
    void stop() {
        engine.close();
        server.close();
    }

    @Test
    void aTurnSendsSteeringHistoryContextAndPromptInOrderOverTheWire() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").personality("Be terse.").build());
        server.reply("Noted.");
        c.send(Prompt.text("My favourite colour is green.").build());
        server.reply("It is 444.");

        c.send(Prompt.text("What is my favourite number?").additionalContext("My favourite number is 444").build());

        LocalOpenAiServer.Recorded sent = server.lastRequest();
        assertThat(sent.authorization()).isEqualTo("Bearer test-key");
        assertThat(sent.body().path("model").asText()).isEqualTo("gpt-4o-mini");
        assertThat(LocalOpenAiServer.messages(sent)).containsExactly(
                "system: Be terse.",
                "user: My favourite colour is green.",
                "assistant: Noted.",
                "system: My favourite number is 444",
                "user: What is my favourite number?");
    }

    @Test
    void modelParametersOfTheConversationAndTheTurnReachTheOpenAiRequestOverTheWire() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws")
                .modelParameters(dev.parley.api.ModelParameters.builder().maxOutputTokens(256).temperature(0.3)
                        .stopSequences(java.util.List.of("\n\nUser:")).build()).build());
        server.reply("{\"ok\": true}");

        c.send(Prompt.text("Answer in JSON").modelParameters(dev.parley.api.ModelParameters.builder().temperature(0.0)
                .responseFormat(dev.parley.api.ModelParameters.ResponseFormat.JSON).build()).build());

        com.fasterxml.jackson.databind.JsonNode body = server.lastRequest().body();
        // LangChain4j sends the output limit as max_tokens or, for newer models, max_completion_tokens.
        int max = body.has("max_completion_tokens") ? body.path("max_completion_tokens").asInt() : body.path("max_tokens").asInt();
        assertThat(max).isEqualTo(256);
        assertThat(body.path("temperature").asDouble(-1)).isEqualTo(0.0);
        assertThat(body.path("stop").isArray()).isTrue();
        assertThat(body.path("stop").get(0).asText()).isEqualTo("\n\nUser:");
        assertThat(body.path("response_format").path("type").asText()).isEqualTo("json_object");

        // Without parameters nothing of them is sent: the model's own configuration applies.
        Conversation plain = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        plain.send(Prompt.text("Hi").build());
        com.fasterxml.jackson.databind.JsonNode bare = server.lastRequest().body();
        assertThat(bare.has("temperature")).isFalse();
        assertThat(bare.has("stop")).isFalse();
        assertThat(bare.has("response_format")).isFalse();
        assertThat(bare.has("max_tokens") || bare.has("max_completion_tokens")).isFalse();
    }

    @Test
    void theReplyAndTheReportedUsageAreReturnedStoredAndAddedToTheTotals() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.reply("Hello, Alice.").usage(42, 4);

        Reply r = c.send(Prompt.text("Hello").id("m-1").build());

        assertThat(r.text()).isEqualTo("Hello, Alice.");
        assertThat(r.usage()).isEqualTo(new Usage(42, 4));
        assertThat(c.info().tokensIn()).isEqualTo(42);
        assertThat(c.info().tokensOut()).isEqualTo(4);
        List<Message> stored = c.messages(PageRequest.first()).items();
        assertThat(stored).extracting(Message::text).containsExactly("Hello", "Hello, Alice.");
        assertThat(stored.get(1).tokens()).isEqualTo(4);
    }

    @Test
    void withoutReportedUsageTheEngineEstimatesTokens() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.reply("A reply of several tokens.").usage(null, null);

        Reply r = c.send(Prompt.text("How many tokens?").build());

        assertThat(server.lastRequest().body().has("messages")).isTrue();
        assertThat(r.usage().tokensIn()).isPositive();
        assertThat(r.usage().tokensOut()).isPositive();
        assertThat(c.messages(PageRequest.first()).items().get(1).tokens()).isEqualTo((int) r.usage().tokensOut());
    }

    @Test
    void anHttpErrorIsModelUnavailableNamingTheStatusAndNothingIsStored() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.fail(500, "The upstream model is overloaded");

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").id("m-1").build()))
                .isInstanceOfSatisfying(ModelUnavailableException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MODEL_UNAVAILABLE);
                    assertThat(e.getMessage()).contains("gpt-4o-mini", "HTTP 500")
                            .doesNotContain("overloaded");
                });
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(c.info().tokensIn()).isZero();

        server.fail(0, null).reply("Back again.");
        Reply retry = c.send(Prompt.text("Hello").id("m-1").build());
        assertThat(retry.text()).isEqualTo("Back again.");
        assertThat(retry.replayed()).isFalse();
        assertThat(server.requests()).hasSize(2);
    }

    @Test
    void aProvidersErrorTextEchoingTheApiKeyStaysOutOfTheMessageAndOnTheCause() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        String echoed = "Incorrect API key provided: sk-proj-Ab12****************************wxYZ. "
                + "You can find your API key at https://platform.example/account/api-keys (project proj_8fJk2)";
        server.fail(401, echoed);

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").build()))
                .isInstanceOfSatisfying(ModelUnavailableException.class, e -> {
                    assertThat(e.getMessage()).isEqualTo("model gpt-4o-mini unavailable: authentication refused (HTTP 401)");
                    assertThat(e.model()).isEqualTo("gpt-4o-mini");
                    assertThat(e.getCause()).isNotNull();
                    assertThat(e.getCause().getMessage()).contains("sk-proj-Ab12");
                });
    }

    @Test
    void aRefusedConnectionIsModelUnavailableSayingSo() throws Exception {
        int closedPort;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        engine.close();
        engine = ConversationEngine.builder().model("gpt-4o-mini", LangChain4jModel.of(
                dev.langchain4j.model.openai.OpenAiChatModel.builder().baseUrl("http://127.0.0.1:" + closedPort + "/v1")
                        .apiKey("test-key").modelName("gpt-4o-mini").maxRetries(0).build())).build();
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").build()))
                .isInstanceOf(ModelUnavailableException.class)
                .hasMessage("model gpt-4o-mini unavailable: connection refused");
    }

    @Test
    void tokensAreCountedWithTheEncodingOfTheUnderlyingModelNotTheRegisteredName() {
        // Text whose token count differs between gpt-4's encoding (cl100k) and gpt-4o's (o200k).
        String text = "\u6771\u4eac\u90fd\u306e\u5929\u6c17\u306f\u6674\u308c\u3067\u3059\u3002 "
                + "Gr\u00f6\u00dfenordnung der Stra\u00dfenbahnhaltestellen, \u0928\u092e\u0938\u094d\u0924\u0947";
        int gpt4 = new dev.langchain4j.model.openai.OpenAiTokenCountEstimator("gpt-4").estimateTokenCountInText(text);
        int gpt4o = new dev.langchain4j.model.openai.OpenAiTokenCountEstimator("gpt-4o").estimateTokenCountInText(text);
        assertThat(gpt4).as("the two encodings must differ on this text for the test to mean anything").isNotEqualTo(gpt4o);
        engine.close();
        engine = ConversationEngine.builder().model("support-bot", LangChain4jModel.of(
                dev.langchain4j.model.openai.OpenAiChatModel.builder().baseUrl(server.baseUrl()).apiKey("test-key")
                        .modelName("gpt-4").maxRetries(0).build())).build();
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.reply("ok").usage(null, null);

        c.send(Prompt.text(text).build());

        assertThat(c.messages(PageRequest.first()).items().get(0).tokens()).isEqualTo(gpt4);
    }

    @Test
    void aContextSizeOverTheDeclaredWindowIsRefusedBeforeAnyRequest() {
        engine.close();
        engine = ConversationEngine.builder().model("gpt-4", LangChain4jModel.of(server.chatModel(Duration.ofSeconds(10)))
                .withContextWindow(8_192)).build();
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").contextSize(10_000_000).build()))
                .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("contextSize"));
        assertThatThrownBy(() -> c.send(Prompt.text("word ".repeat(9_000)).build()))
                .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("text"));
        assertThat(server.requests()).isEmpty();
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();

        server.reply("Fits.");
        assertThat(c.send(Prompt.text("Hello").contextSize(8_192).build()).text()).isEqualTo("Fits.");
    }

    @Test
    void aServerSlowerThanTheModelsTimeoutIsModelUnavailableAndNothingIsStored() {
        engine.close();
        engine = engineWithTimeout(Duration.ofMillis(300));
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.delay(Duration.ofSeconds(2));

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").build()))
                .isInstanceOf(ModelUnavailableException.class)
                .hasMessage("model gpt-4o-mini unavailable: timed out");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void plaintextRemovesMarkdownFromTheReplyWhileTheHistoryKeepsIt() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.reply("**bold** and `code`\n\n- item");

        Reply r = c.send(Prompt.text("Format something").plaintext(true).build());

        assertThat(r.text()).doesNotContain("**", "`").contains("bold and code", "item");
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo("**bold** and `code`\n\n- item");
    }
}
