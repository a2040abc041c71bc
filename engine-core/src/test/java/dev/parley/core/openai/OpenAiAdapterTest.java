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
    void anHttpErrorIsModelUnavailableWithTheProvidersMessageAndNothingIsStored() {
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.fail(500, "The upstream model is overloaded");

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").id("m-1").build()))
                .isInstanceOfSatisfying(ModelUnavailableException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MODEL_UNAVAILABLE);
                    assertThat(e.getMessage()).contains("The upstream model is overloaded");
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
    void aServerSlowerThanTheModelsTimeoutIsModelUnavailableAndNothingIsStored() {
        engine.close();
        engine = engineWithTimeout(Duration.ofMillis(300));
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        server.delay(Duration.ofSeconds(2));

        assertThatThrownBy(() -> c.send(Prompt.text("Hello").build()))
                .isInstanceOf(ModelUnavailableException.class)
                .hasMessageContaining("gpt-4o-mini");
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
