package dev.parley.core.openai;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.Usage;
import dev.parley.core.LangChain4jModel;
import dev.parley.core.StreamingTest;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The real langchain4j-open-ai streaming adapter, over server-sent events, against a local server. */
class OpenAiStreamingTest {
    private final Caller alice = Caller.user("alice", "org").member("ws").build();
    private LocalOpenAiServer server;
    private ConversationEngine engine;

    @BeforeEach
    void start() throws Exception {
        server = new LocalOpenAiServer();
        engine = ConversationEngine.builder().model("gpt-4o-mini", model()).build();
    }

    private LangChain4jModel model() {
        return LangChain4jModel.of(server.chatModel(Duration.ofSeconds(20)), server.streamingModel());
    }

    @AfterEach
    void stop() {
        engine.close();
        server.close();
    }

    /** Records a stream; cancels its conversation after {@code cancelAfter} deltas when that is positive. */
    private static final class Recorder extends StreamingTest.Recorder {
        private final Conversation conversation;
        private final int cancelAfter;

        Recorder(Conversation conversation, int cancelAfter) {
            this.conversation = conversation;
            this.cancelAfter = cancelAfter;
        }

        @Override
        public void onDelta(String delta) {
            super.onDelta(delta);
            if (deltas.size() == cancelAfter) {
                conversation.cancelStream();
            }
        }
    }

    @Test
    void streamedDeltasOverServerSentEventsConcatenateToTheStoredReply() throws Exception {
        String answer = "Streaming works over server sent events.";
        server.reply(answer).usage(21, 8);
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        Recorder r = new Recorder(c, 0);

        StreamHandle h = c.stream(Prompt.text("Stream something").build(), r);

        assertThat(h.await(Duration.ofSeconds(20))).isTrue();
        assertThat(server.lastRequest().body().path("stream").asBoolean()).isTrue();
        assertThat(LocalOpenAiServer.messages(server.lastRequest())).containsExactly("user: Stream something");
        assertThat(r.errors).isEmpty();
        assertThat(r.deltas).containsExactlyElementsOf(ScriptedModel.chunksOf(answer));
        Reply reply = r.completions.get(0);
        assertThat(reply.text()).isEqualTo(answer);
        assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(server.lastRequest().body().path("stream_options").path("include_usage").asBoolean(false))
                .as("LangChain4j asks for usage on streams").isTrue();
        assertThat(reply.usage()).isEqualTo(new Usage(21, 8));
        assertThat(c.messages(PageRequest.first()).items()).extracting(Message::text)
                .containsExactly("Stream something", answer);
    }

    @Test
    void aStreamThatStallsFailsAfterTheIdleTimeoutStoresNothingAndUnlocks() throws Exception {
        engine.close();
        engine = ConversationEngine.builder().model("gpt-4o-mini", model())
                .timeouts(dev.parley.api.Timeouts.builder().streamIdle(Duration.ofMillis(300)).build())
                .build();
        server.reply("one two three").chunkDelay(Duration.ofSeconds(3));
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        Recorder r = new Recorder(c, 0);

        StreamHandle h = c.stream(Prompt.text("Hello").build(), r);

        assertThat(h.await(Duration.ofSeconds(10))).isTrue();
        assertThat(r.errors).singleElement().isInstanceOfSatisfying(dev.parley.api.ModelUnavailableException.class,
                e -> assertThat(e.getMessage()).contains("delivered nothing"));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        server.chunkDelay(Duration.ofMillis(1));
        assertThat(c.send(Prompt.text("again").build()).text()).isEqualTo("one two three");
    }

    @Test
    void aCancelInTheMiddleStoresWhatArrivedAndClosesTheConnection() throws Exception {
        String answer = "word ".repeat(60).trim();
        server.reply(answer).chunkDelay(Duration.ofMillis(30));
        Conversation c = engine.as(alice).create(NewConversation.inWorkspace("ws").build());
        Recorder r = new Recorder(c, 3);

        StreamHandle h = c.stream(Prompt.text("Go on and on").build(), r);

        assertThat(h.await(Duration.ofSeconds(20))).isTrue();
        Reply reply = r.completions.get(0);
        assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(reply.text()).isEqualTo(r.text());
        assertThat(r.deltas.size()).isBetween(3, 4);
        Message stored = c.messages(PageRequest.first()).items().get(1);
        assertThat(stored.text()).isEqualTo(reply.text());
        assertThat(stored.status()).isEqualTo(MessageStatus.CANCELLED);
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!server.clientLeftMidStream() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(server.clientLeftMidStream()).as("the client closed the connection").isTrue();
    }
}
