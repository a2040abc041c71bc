package dev.parley.core;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.StreamHandle;
import dev.parley.api.spi.PromptStage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** How a conversation with a running stream refuses other requests. (Stream failures are in StreamingTest.) */
class RefusalOrderTest {
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversationWith(PromptPipeline pipeline, ScriptedModel model) {
        engine = EngineFixture.builder(model, new InMemoryConversationStore(), Clock.systemUTC())
                .pipeline(pipeline).timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofSeconds(3)).build()).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    @Test
    void duringAStreamSendAndStreamRefuseACallerWithTheSameCodeInTheSameOrder() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        PromptStage holdStreams = chain -> {
            if (chain.turn().stream() != null) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.turn());
        };
        Conversation c = conversationWith(PromptPipeline.defaults().insertBefore(ProviderCallStage.class, holdStreams),
                ScriptedModel.echo());
        StreamHandle running = c.stream(Prompt.text("long answer").build(), new StreamingTest.Recorder());
        try {
            // Its owner after leaving the workspace: may still read the conversation, no longer send in it.
            Conversation asFormerMember = engine.as(dev.parley.api.Caller.user("alice", EngineFixture.ORG).build()).get(c.id());
            List<dev.parley.api.ErrorCode> codes = new ArrayList<>();
            for (Runnable call : List.<Runnable>of(
                    () -> asFormerMember.send(Prompt.text("hi").build()),
                    () -> asFormerMember.stream(Prompt.text("hi").build(), new StreamingTest.Recorder()),
                    () -> c.send(Prompt.text("hi").contextSize(ConversationEngine.Builder.DEFAULT_CONTEXT_WINDOW + 1).build()),
                    () -> c.stream(Prompt.text("hi").contextSize(ConversationEngine.Builder.DEFAULT_CONTEXT_WINDOW + 1).build(),
                            new StreamingTest.Recorder()),
                    () -> c.send(Prompt.text("hi").build()),
                    () -> c.stream(Prompt.text("hi").build(), new StreamingTest.Recorder()))) {
                try {
                    call.run();
                    codes.add(null);
                } catch (dev.parley.api.ParleyException e) {
                    codes.add(e.code());
                }
            }
            assertThat(codes).containsExactly(dev.parley.api.ErrorCode.FORBIDDEN, dev.parley.api.ErrorCode.FORBIDDEN,
                    dev.parley.api.ErrorCode.INVALID_REQUEST, dev.parley.api.ErrorCode.INVALID_REQUEST,
                    dev.parley.api.ErrorCode.CONVERSATION_LOCKED, dev.parley.api.ErrorCode.CONVERSATION_LOCKED);
        } finally {
            release.countDown();
        }
        assertThat(running.await(Duration.ofSeconds(10))).isTrue();
    }
}
