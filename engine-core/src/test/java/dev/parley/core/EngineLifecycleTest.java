package dev.parley.core;

import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** An engine's life: calls after close, and how a failed turn is recorded. Runs on every store. */
public class EngineLifecycleTest {
    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void afterCloseEveryCallOnEveryHandleFailsWithTheSameIllegalStateException() {
        ScriptedModel model = ScriptedModel.echo();
        engine = EngineFixture.builder(model, newStore()).build();
        Conversations alice = engine.as(EngineFixture.member("alice"));
        Conversation c = alice.create(NewConversation.inWorkspace(WS).build());
        c.send(Prompt.text("hello").build());
        int calls = model.callCount();

        engine.close();

        List<ThrowingCallable> calls_ = List.of(
                () -> engine.as(EngineFixture.member("bob")),
                () -> alice.create(NewConversation.inWorkspace(WS).build()),
                () -> alice.get(c.id()),
                () -> alice.list(ConversationQuery.all(PageRequest.first())),
                c::info,
                () -> c.send(Prompt.text("after close").build()),
                () -> c.stream(Prompt.text("after close").build(), ignoring()),
                c::cancelStream,
                () -> c.messages(PageRequest.first()),
                () -> c.update(ConversationPatch.builder().personality("x").build()),
                c::delete);
        for (ThrowingCallable call : calls_) {
            assertThatThrownBy(call).isExactlyInstanceOf(IllegalStateException.class).hasMessage("the engine is closed");
        }
        assertThat(model.callCount()).isEqualTo(calls);
    }

    @Test
    void concurrentSendersOfOneFailingIdRecordOneTurnFailure() throws Exception {
        ConversationStore store = newStore();
        ScriptedModel model = ScriptedModel.builder().replies("never").latency(Duration.ofMillis(400)).build();
        model.failNext(new IllegalStateException("provider down"));
        engine = EngineFixture.builder(model, store).build();
        Conversation c = engine.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(WS).build());
        int senders = 8;
        CyclicBarrier start = new CyclicBarrier(senders);
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        List<Future<Object>> outcomes = new ArrayList<>();
        try {
            for (int i = 0; i < senders; i++) {
                outcomes.add(pool.submit(() -> {
                    start.await();
                    try {
                        return c.send(Prompt.text("hello").id("msg-1").build());
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            List<Object> results = new ArrayList<>();
            for (Future<Object> f : outcomes) {
                results.add(f.get());
            }
            long failed = results.stream().filter(r -> r instanceof ModelUnavailableException).count();
            long answered = results.stream().filter(r -> r instanceof Reply).count();
            assertThat(failed + answered).isEqualTo(senders);
            assertThat(failed).as("senders that shared the failed run").isGreaterThan(1);
        } finally {
            pool.shutdownNow();
        }

        long failureEvents = store.events(c.id()).stream().filter(e -> e.type() == AuditEvent.Type.TURN_FAILED).count();
        assertThat(failureEvents).as("one failed model call, one TURN_FAILED event").isEqualTo(1);
    }

    static StreamListener ignoring() {
        return new StreamListener() {
            @Override
            public void onDelta(String delta) {
            }

            @Override
            public void onComplete(Reply reply) {
            }

            @Override
            public void onError(RuntimeException error) {
            }
        };
    }
}
