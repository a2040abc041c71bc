package dev.parley.core;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.Turn;
import dev.parley.api.spi.TurnResult;
import dev.parley.api.spi.TurnStream;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** Streams that fail in ways a stage or a host's provider stage can make them fail, and streams fed from many threads. */
class StreamFailureTest {
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversationWith(PromptPipeline pipeline, ScriptedModel model) {
        engine = EngineFixture.builder(model, new InMemoryConversationStore()).clock(Clock.systemUTC())
                .pipeline(pipeline).streamLease(Duration.ofSeconds(3)).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    @Test
    void anErrorThrownInAStreamedTurnEndsTheStreamWithOneErrorAndFreesTheConversation() throws Exception {
        AtomicBoolean fail = new AtomicBoolean(true);
        PromptStage assertion = chain -> {
            if (fail.get() && chain.turn().stream() != null) {
                throw new AssertionError("a stage's own assertion");
            }
            return chain.proceed(chain.turn());
        };
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversationWith(PromptPipeline.defaults().insertBefore(ContextStage.class, assertion), model);
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        StreamHandle h = c.stream(Prompt.text("hello").build(), r);

        assertThat(h.await(Duration.ofSeconds(10))).as("await returns").isTrue();
        assertThat(r.completions).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOfSatisfying(IllegalStateException.class,
                e -> assertThat(e.getCause()).isInstanceOf(AssertionError.class));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        fail.set(false);
        StreamingTest.Recorder next = new StreamingTest.Recorder();
        assertThat(c.stream(Prompt.text("again").build(), next).await(Duration.ofSeconds(10))).isTrue();
        assertThat(next.completions).hasSize(1);
    }

    @Test
    void aChunkHookThatBreaksFailsTheStreamNamingItsStageNotAsAnUnavailableModel() throws Exception {
        PromptStage watcher = new BrokenHookStage();
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "one two three").build();
        Conversation c = conversationWith(PromptPipeline.defaults().insertBefore(ContextStage.class, watcher), model);
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        assertThat(c.stream(Prompt.text("hello").build(), r).await(Duration.ofSeconds(10))).isTrue();

        assertThat(r.errors).singleElement()
                .isNotInstanceOf(ModelUnavailableException.class)
                .isInstanceOfSatisfying(IllegalStateException.class,
                        e -> assertThat(e).hasMessageContaining("BrokenHookStage"));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    /** A stage whose chunk hook throws a plain exception. */
    static final class BrokenHookStage implements PromptStage {
        @Override
        public TurnResult intercept(Chain chain) {
            chain.turn().streaming().ifPresent(s -> s.addChunkHook((delta, window) -> {
                throw new IllegalArgumentException("bug in the hook");
            }));
            return chain.proceed(chain.turn());
        }
    }

    @Test
    void deltasEmittedFromManyThreadsReachTheListenerOneAtATimeEachOnceAndNeverAfterCompletion() throws Exception {
        int threads = 8;
        int perThread = 500;
        ExecutorService emitters = Executors.newFixedThreadPool(threads);
        List<Runnable> afterEnd = new CopyOnWriteArrayList<>();
        AtomicInteger brokenWindows = new AtomicInteger();
        // A host's provider stage that delivers from its own threads.
        PromptStage manyThreads = chain -> {
            Turn turn = chain.turn();
            TurnStream out = turn.stream();
            out.addChunkHook((delta, window) -> {
                if (!window.endsWith(delta)) {
                    brokenWindows.incrementAndGet();
                }
            });
            List<Future<?>> sent = new ArrayList<>();
            StringBuffer text = new StringBuffer();
            CountDownLatch go = new CountDownLatch(1);
            for (int t = 0; t < threads; t++) {
                int thread = t;
                sent.add(emitters.submit(() -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        String delta = "<" + thread + ":" + i + ">";
                        out.emit(delta);
                        text.append(delta);
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : sent) {
                try {
                    f.get();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
            afterEnd.add(() -> out.emit("<late>"));
            return TurnResult.fromModel(turn, text.toString(), null);
        };
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        AtomicBoolean ended = new AtomicBoolean();
        AtomicInteger afterCompletion = new AtomicInteger();
        List<String> deltas = new CopyOnWriteArrayList<>();
        List<Reply> completions = new CopyOnWriteArrayList<>();
        StreamListener listener = new StreamListener() {
            @Override
            public void onDelta(String delta) {
                if (inside.incrementAndGet() > 1) {
                    overlaps.incrementAndGet();
                }
                if (ended.get()) {
                    afterCompletion.incrementAndGet();
                }
                deltas.add(delta);
                inside.decrementAndGet();
            }

            @Override
            public void onComplete(Reply reply) {
                ended.set(true);
                completions.add(reply);
            }

            @Override
            public void onError(RuntimeException error) {
                ended.set(true);
            }
        };
        try {
            Conversation c = conversationWith(PromptPipeline.defaults().replace(ProviderCallStage.class, manyThreads),
                    ScriptedModel.echo());

            assertThat(c.stream(Prompt.text("go").build(), listener).await(Duration.ofSeconds(30))).isTrue();
            afterEnd.forEach(Runnable::run);

            assertThat(overlaps).as("listener calls at once").hasValue(0);
            assertThat(afterCompletion).as("deltas after completion").hasValue(0);
            assertThat(deltas).hasSize(threads * perThread);
            Set<String> distinct = new HashSet<>(deltas);
            assertThat(distinct).hasSize(threads * perThread).doesNotContain("<late>");
            assertThat(brokenWindows).as("hook windows that do not end with their delta").hasValue(0);
            assertThat(completions).singleElement().satisfies(reply ->
                    assertThat(reply.text()).hasSameSizeAs(String.join("", deltas)));
        } finally {
            emitters.shutdownNow();
        }
    }

    @Test
    void aCancelBeforeTheModelCallMakesNoCallAndItsEmptyReplyIsNeverSentToTheModel() throws Exception {
        CountDownLatch reachedTheCall = new CountDownLatch(1);
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicBoolean hold = new AtomicBoolean(true);
        PromptStage beforeTheCall = chain -> {
            if (hold.get() && chain.turn().stream() != null) {
                reachedTheCall.countDown();
                try {
                    cancelled.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.turn());
        };
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversationWith(PromptPipeline.defaults().insertBefore(ProviderCallStage.class, beforeTheCall),
                model);
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        StreamHandle h = c.stream(Prompt.text("first").build(), r);
        reachedTheCall.await();
        h.cancel();
        cancelled.countDown();

        assertThat(h.await(Duration.ofSeconds(10))).isTrue();
        assertThat(model.callCount()).as("model calls").isZero();
        assertThat(r.completions).singleElement().satisfies(reply -> {
            assertThat(reply.status()).isEqualTo(dev.parley.api.MessageStatus.CANCELLED);
            assertThat(reply.text()).isEmpty();
        });
        hold.set(false);

        c.send(Prompt.text("second").build());

        assertThat(model.lastRequest().messages()).noneMatch(m -> m.role() == dev.parley.api.spi.ModelMessage.Role.ASSISTANT
                && m.text().isEmpty());
        assertThat(model.lastRequestTexts()).containsExactly("first", "second");
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
