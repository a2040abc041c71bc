package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnStream;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class StreamingTest {
    /**
     * Whether the engine's scripted models stream word by word (true) or only chat, so that a stream gets the
     * whole answer as one delta; a subclass runs these tests with models that only chat. Tests about deltas one
     * by one use a streaming model in both.
     */
    protected boolean modelStreams() {
        return true;
    }

    /** A model that streams {@link #ANSWER} word by word in every configuration, for tests about single deltas. */
    private static ScriptedModel wordByWord() {
        return ScriptedModel.builder().replyWith(r -> ANSWER).chunkDelay(Duration.ofMillis(2)).build();
    }

    private ScriptedModel.Builder scripted() {
        return modelStreams() ? ScriptedModel.builder() : ScriptedModel.builder().chatOnly();
    }

    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private static final String ANSWER = "The quick brown fox jumps over the lazy dog";
    private final ConversationStore store = newStore();
    private ScriptedModel model = scripted().replyWith(r -> ANSWER).chunkDelay(Duration.ofMillis(2)).build();
    /** The engine under test; a test that needs another model or pipeline sets it before its first use. */
    private ConversationEngine engine;

    private ConversationEngine engine(ScriptedModel m, PromptPipeline pipeline) {
        // The system clock: stream leases are measured in real time.
        return EngineFixture.builder(m, store, Clock.systemUTC()).pipeline(pipeline)
                .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofSeconds(3)).build()).build();
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation() {
        if (engine == null) {
            engine = engine(model, PromptPipeline.defaults());
        }
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    /** Records what a stream delivers. */
    public static class Recorder implements StreamListener {
        public final List<String> deltas = new CopyOnWriteArrayList<>();
        public final List<Reply> completions = new CopyOnWriteArrayList<>();
        public final List<RuntimeException> errors = new CopyOnWriteArrayList<>();

        @Override
        public void onDelta(String delta) {
            deltas.add(delta);
        }

        @Override
        public void onComplete(Reply reply) {
            completions.add(reply);
        }

        @Override
        public void onError(RuntimeException error) {
            errors.add(error);
        }

        public String text() {
            return String.join("", deltas);
        }

        public int terminalEvents() {
            return completions.size() + errors.size();
        }
    }

    private static void awaitDone(StreamHandle h) throws InterruptedException {
        assertThat(h.await(Duration.ofSeconds(30))).as("stream ended").isTrue();
    }

    @Test
    void deltasArriveInOrderAndConcatenateToTheStoredReply() throws Exception {
        Conversation c = conversation();
        Recorder r = new Recorder();

        StreamHandle h = c.stream(Prompt.text("Tell me").id("m-1").build(), r);
        awaitDone(h);

        assertThat(r.deltas).containsExactlyElementsOf(modelStreams() ? ScriptedModel.chunksOf(ANSWER) : List.of(ANSWER));
        assertThat(r.errors).isEmpty();
        assertThat(r.completions).hasSize(1);
        Reply reply = r.completions.get(0);
        assertThat(reply.text()).isEqualTo(ANSWER).isEqualTo(r.text());
        assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(reply.promptId()).isEqualTo("m-1").isEqualTo(h.promptId());
        List<Message> stored = c.messages(PageRequest.first()).items();
        assertThat(stored).extracting(Message::text).containsExactly("Tell me", ANSWER);
        assertThat(c.info().tokensOut()).isEqualTo(reply.usage().tokensOut()).isPositive();
    }

    @Test
    void aPlaintextStreamDeliversDeltasWithoutMarkdownThatAddUpToTheReplyAndStoresTheMarkdown() throws Exception {
        String markdown = "# Steps\n\nOpen **Settings**, then *Account*.\n\n- Choose `Reset`\n- Check your inbox";
        engine = engine(ScriptedModel.builder().replyWith(r -> markdown).chunkDelay(Duration.ofMillis(1)).build(),
                PromptPipeline.defaults());
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("How?").id("p-1").plaintext(true).build(), r));

        assertThat(r.errors).isEmpty();
        Reply reply = r.completions.get(0);
        assertThat(reply.text()).isEqualTo(r.text()).doesNotContain("*", "#", "`")
                .contains("Open Settings, then Account.", "Choose Reset");
        assertThat(r.deltas).as("handed on as it streams, not at the end").hasSizeGreaterThan(2);
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(markdown);

        Recorder again = new Recorder();
        awaitDone(c.stream(Prompt.text("How?").id("p-1").plaintext(true).build(), again));
        assertThat(again.deltas).as("a replay hands the plain text on once").containsExactly(reply.text());
        assertThat(again.completions.get(0).text()).isEqualTo(reply.text());
    }

    @Test
    void cancellingAfterThreeDeltasStoresExactlyThoseDeltasAsCancelled() throws Exception {
        engine = engine(wordByWord(), PromptPipeline.defaults());
        Conversation c = conversation();
        List<String> seen = new CopyOnWriteArrayList<>();
        Recorder r = new Recorder() {
            @Override
            public void onDelta(String delta) {
                super.onDelta(delta);
                seen.add(delta);
                if (seen.size() == 3) {
                    c.cancelStream();
                }
            }
        };

        awaitDone(c.stream(Prompt.text("Tell me").build(), r));

        Reply reply = r.completions.get(0);
        String firstThree = String.join("", ScriptedModel.chunksOf(ANSWER).subList(0, 3));
        assertThat(r.text()).isEqualTo(firstThree);
        assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(reply.text()).isEqualTo(firstThree);
        Message storedReply = c.messages(PageRequest.first()).items().get(1);
        assertThat(storedReply.text()).isEqualTo(firstThree);
        assertThat(storedReply.status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(storedReply.tokens()).isPositive();
        assertThat(c.info().tokensOut()).isEqualTo(storedReply.tokens());
    }

    @Test
    void exactlyOneTerminalEventEvenWhenEightThreadsCancelAtRandomMoments() throws Exception {
        model = scripted().replyWith(r -> ANSWER).chunkDelay(Duration.ofNanos(200_000)).build();
        engine = engine(model, PromptPipeline.defaults());
        Conversation c = conversation();
        ExecutorService cancellers = Executors.newFixedThreadPool(8);
        try {
            for (int run = 0; run < 500; run++) {
                Recorder r = new Recorder();
                StreamHandle h = c.stream(Prompt.text("run " + run).build(), r);
                List<Future<?>> cancels = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    boolean viaConversation = t % 2 == 0;
                    cancels.add(cancellers.submit(() -> {
                        sleepMicros(ThreadLocalRandom.current().nextInt(3_000));
                        if (viaConversation) {
                            c.cancelStream();
                        } else {
                            h.cancel();
                        }
                        return null;
                    }));
                }
                awaitDone(h);
                for (Future<?> f : cancels) {
                    f.get(10, TimeUnit.SECONDS);
                }
                // await returns after the terminal event was delivered, and a second one is refused by
                // compare-and-set: the count is final here, with no sleep needed.
                assertThat(r.terminalEvents()).as("terminal events of run %d", run).isEqualTo(1);
                assertThat(r.errors).as("run %d", run).isEmpty();
                Reply reply = r.completions.get(0);
                assertThat(reply.text()).as("run %d", run).isEqualTo(r.text());
                assertThat(reply.status()).isIn(MessageStatus.COMPLETE, MessageStatus.CANCELLED);
            }
        } finally {
            cancellers.shutdownNow();
        }
        List<Message> last = c.messages(PageRequest.of(10, 100)).items();
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(1000);
        assertThat(last).hasSize(100);
    }

    private static void sleepMicros(int micros) throws InterruptedException {
        Thread.sleep(micros / 1000, (micros % 1000) * 1000);
    }

    @Test
    void sixteenThreadsStartingStreamsAtOnceLetOneRunAndLockTheOthersOut() throws Exception {
        // The stream that wins is held until every thread has tried, however fast the model answers.
        Gate gate = new Gate();
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        int threads = 16;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<StreamHandle>> futures = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            int n = i;
            futures.add(pool.submit(() -> {
                start.await();
                return c.stream(Prompt.text("go " + n).build(), new Recorder());
            }));
        }
        start.countDown();
        List<StreamHandle> running = new ArrayList<>();
        int locked = 0;
        for (Future<StreamHandle> f : futures) {
            try {
                running.add(f.get(10, TimeUnit.SECONDS));
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(ConversationLockedException.class);
                locked++;
            }
        }
        pool.shutdown();
        gate.release.countDown();
        assertThat(running).hasSize(1);
        assertThat(locked).isEqualTo(15);
        awaitDone(running.get(0));
        awaitDone(c.stream(Prompt.text("after").build(), new Recorder()));
    }

    @Test
    void sendIsLockedOutWhileAStreamRunsAndWorksAfterIt() throws Exception {
        Gate gate = new Gate(); // the stream runs until the send has been refused, however fast the model is
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        StreamHandle h = c.stream(Prompt.text("long").build(), new Recorder());

        assertThatThrownBy(() -> c.send(Prompt.text("meanwhile").build()))
                .isInstanceOf(ConversationLockedException.class);
        gate.release.countDown();
        awaitDone(h);
        assertThat(c.send(Prompt.text("now").build()).text()).isEqualTo(ANSWER);
    }

    @Test
    void aLockLeftByADeadHolderStopsBlockingAfterItsLease() throws Exception {
        Conversation live = conversation();
        store.acquireStreamLock(live.id(), "a-live-engine", Clock.systemUTC().instant(), Duration.ofHours(1));
        assertThatThrownBy(() -> live.stream(Prompt.text("x").build(), new Recorder()))
                .isInstanceOf(ConversationLockedException.class);

        // A lock whose holder died: its short lease runs out unrenewed (in real time: a store may measure leases
        // by the database's clock).
        Conversation c = conversation();
        store.acquireStreamLock(c.id(), "a-dead-engine", Clock.systemUTC().instant(), Duration.ofMillis(200));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.streamLock(c.id(), Clock.systemUTC().instant()).isPresent() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        Recorder r = new Recorder();
        awaitDone(c.stream(Prompt.text("x").build(), r));
        assertThat(r.completions).hasSize(1);
    }

    @Test
    void aModelFailureMidStreamFailsTheStreamStoresNothingAndUnlocks() throws Exception {
        ScriptedModel failing = ScriptedModel.builder().replyWith(r -> ANSWER)
                .failStreamsAfter(2, new RuntimeException("connection reset by upstream")).build();
        engine = engine(failing, PromptPipeline.defaults());
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").id("m-1").build(), r));

        assertThat(r.deltas).hasSize(2);
        assertThat(r.completions).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOfSatisfying(ModelUnavailableException.class,
                e -> assertThat(e.getCause()).hasMessage("connection reset by upstream"));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(store.events(c.id())).extracting(AuditEvent::type).contains(AuditEvent.Type.TURN_FAILED);
        // The lock is gone and the failed id may be tried again (the scripted failure hits streams only).
        Reply retry = c.send(Prompt.text("x").id("m-1").build());
        assertThat(retry.replayed()).isFalse();
        assertThat(retry.text()).isEqualTo(ANSWER);
    }

    @Test
    void replayingTheIdOfAStreamedTurnDeliversTheStoredReplyAsOneDeltaWithoutAModelCall() throws Exception {
        Conversation c = conversation();
        awaitDone(c.stream(Prompt.text("Tell me").id("m-1").build(), new Recorder()));
        int calls = model.callCount();
        Recorder again = new Recorder();

        awaitDone(c.stream(Prompt.text("Tell me").id("m-1").build(), again));

        assertThat(model.callCount()).isEqualTo(calls);
        assertThat(again.deltas).containsExactly(ANSWER);
        assertThat(again.completions).singleElement().satisfies(rep -> {
            assertThat(rep.replayed()).isTrue();
            assertThat(rep.text()).isEqualTo(ANSWER);
        });
    }

    /** A stage that watches the stream for a phrase, through the chunk hook's sliding window. */
    private static PromptStage watching(String phrase, boolean block) {
        return chain -> {
            chain.turn().streaming().ifPresent(stream -> stream.addChunkHook((delta, window) -> {
                if (window.contains(phrase)) {
                    if (block) {
                        throw new PolicyBlockedException("no-foxes", "the reply mentions " + phrase);
                    }
                    stream.cancel();
                }
            }));
            return chain.proceed(chain.turn());
        };
    }

    @Test
    void aChunkHookSeesTextSplitAcrossDeltasAndCanStopTheStream() throws Exception {
        engine = engine(wordByWord(), PromptPipeline.defaults().insertBefore(ContextStage.class, watching("brown fox", false)));
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        // "brown " and "fox " arrive as two deltas; the window sees them together and the stream stops there.
        assertThat(r.completions.get(0).status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(r.text()).isEqualTo("The quick brown fox ");
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo("The quick brown fox ");
    }

    @Test
    void aChunkHookThatThrowsFailsTheTurnAndNothingIsStored() throws Exception {
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, watching("lazy dog", true)));
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(r.completions).isEmpty();
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aListenerThatThrowsCannotCorruptTheTurnOrKeepTheLock() throws Exception {
        Conversation c = conversation();
        StreamListener hostile = new StreamListener() {
            @Override
            public void onDelta(String delta) {
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void onComplete(Reply reply) {
                throw new IllegalStateException("listener bug");
            }

            @Override
            public void onError(RuntimeException error) {
                throw new IllegalStateException("listener bug");
            }
        };

        awaitDone(c.stream(Prompt.text("x").build(), hostile));

        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(ANSWER);
        assertThat(c.messages(PageRequest.first()).items().get(1).status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(c.send(Prompt.text("next").build()).text()).isEqualTo(ANSWER);
    }

    @Test
    void aCallerWhoMayNotSendIsRefusedAtOnceAndTakesNoLock() {
        Conversation c = conversation();
        var orgAdmin = engine.as(dev.parley.api.Caller.user("boss", EngineFixture.ORG).organizationAdmin().build());
        var outsider = engine.as(dev.parley.api.Caller.user("alice", EngineFixture.ORG).build()); // owner, no longer a member

        assertThatThrownBy(() -> outsider.get(c.id()).stream(Prompt.text("x").build(), new Recorder()))
                .isInstanceOf(dev.parley.api.AccessDeniedException.class);
        assertThat(store.streamLock(c.id(), Clock.systemUTC().instant())).isEmpty();
        assertThat(orgAdmin.get(c.id()).send(Prompt.text("x").build()).text()).isEqualTo(ANSWER);
    }

    @Test
    void cancellingWhenNoStreamIsActiveIsHarmless() {
        Conversation c = conversation();
        c.cancelStream();
        assertThat(c.send(Prompt.text("x").build()).status()).isEqualTo(MessageStatus.COMPLETE);
    }

    @Test
    void aStreamThatStartsWhileASendRunsMakesTheSendStoreNothingSoTheyNeverBothStoreTurnsRunSideBySide()
            throws Exception {
        Gate gate = new Gate("a slow send");
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Recorder r = new Recorder();
        try {
            Future<Reply> send = pool.submit(() -> c.send(Prompt.text("a slow send").id("m-send").build()));
            assertThat(gate.reached.await(30, TimeUnit.SECONDS)).isTrue();
            // The send passed its check (no stream then) and is in its turn: a stream starts and finishes.
            awaitDone(c.stream(Prompt.text("streamed").id("m-stream").build(), r));
            assertThat(r.completions).hasSize(1);
            gate.release.countDown();

            assertThatThrownBy(() -> send.get(30, TimeUnit.SECONDS))
                    .hasCauseInstanceOf(ConversationLockedException.class);
        } finally {
            pool.shutdownNow();
        }
        assertThat(c.messages(PageRequest.first()).items()).extracting(Message::text).containsExactly("streamed", ANSWER);
        assertThat(c.info().tokensIn()).isEqualTo(r.completions.get(0).usage().tokensIn());
        // The refused send's id is free: sent again, it is stored.
        assertThat(c.send(Prompt.text("a slow send").id("m-send").build()).replayed()).isFalse();
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(4);
    }

    @Test
    void aReStreamWaitingForItsIdHeldElsewhereGivesTheLockUpMeanwhileAndThenReplaysThatTurnsReply() throws Exception {
        Gate gate = new Gate("slow");
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        // A second engine on the same store; closing it closes the store, so it is closed last.
        ConversationEngine other = engine(model, PromptPipeline.defaults());
        try {
            // Engine one sends m-1 and is slow; the client gives up and streams m-1 again through engine two.
            Future<Reply> send = pool.submit(() -> c.send(Prompt.text("slow").id("m-1").build()));
            assertThat(gate.reached.await(30, TimeUnit.SECONDS)).isTrue();
            Recorder r = new Recorder();
            StreamHandle restream = other.as(member("alice")).get(c.id()).stream(Prompt.text("slow").id("m-1").build(), r);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (store.streamLock(c.id(), Clock.systemUTC().instant()).isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }

            // While the re-stream waits for m-1, the conversation is not locked: another turn goes on.
            assertThat(store.streamLock(c.id(), Clock.systemUTC().instant())).isEmpty();
            assertThat(c.send(Prompt.text("meanwhile").id("m-2").build()).text()).isEqualTo(ANSWER);
            assertThat(restream.isDone()).isFalse();

            gate.release.countDown();
            Reply sent = send.get(30, TimeUnit.SECONDS);
            awaitDone(restream);
            assertThat(r.errors).isEmpty();
            assertThat(r.completions).singleElement().satisfies(reply -> {
                assertThat(reply.replayed()).isTrue();
                assertThat(reply.messageId()).isEqualTo(sent.messageId());
            });
            assertThat(model.callCount()).isEqualTo(2);
            assertThat(c.messages(PageRequest.first()).items()).extracting(Message::text)
                    .containsExactly("meanwhile", ANSWER, "slow", ANSWER);
            assertThat(store.streamLock(c.id(), Clock.systemUTC().instant())).isEmpty();
        } finally {
            pool.shutdownNow();
            other.close();
        }
    }

    /**
     * A stage that holds the turns it is told to at its place until released, telling when one arrives: streamed
     * turns ({@code new Gate()}), or those whose prompt is a text.
     */
    private static final class Gate implements PromptStage {
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final java.util.function.Predicate<dev.parley.api.values.Turn> holds;

        Gate() {
            this(turn -> turn.streaming().isPresent());
        }

        Gate(String text) {
            this(turn -> turn.prompt().text().equals(text));
        }

        private Gate(java.util.function.Predicate<dev.parley.api.values.Turn> holds) {
            this.holds = holds;
        }

        @Override
        public dev.parley.api.values.TurnResult intercept(Chain chain) {
            if (holds.test(chain.turn())) {
                reached.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return chain.proceed(chain.turn());
        }
    }

    @Test
    void aStreamCancelledBeforeTheModelCallMakesNoModelCallAndItsEmptyReplyIsNeverSentToTheModel() throws Exception {
        Gate gate = new Gate();
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        Recorder r = new Recorder();

        StreamHandle h = c.stream(Prompt.text("first").build(), r);
        assertThat(gate.reached.await(30, TimeUnit.SECONDS)).isTrue();
        c.cancelStream();
        gate.release.countDown();
        awaitDone(h);

        assertThat(model.callCount()).isZero();
        assertThat(r.deltas).isEmpty();
        assertThat(r.completions).singleElement().satisfies(rep -> {
            assertThat(rep.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(rep.text()).isEmpty();
            assertThat(rep.usage().total()).isZero();
        });
        // As DESIGN.md says of a cancelled stream: the user message and the (empty) partial reply are stored.
        assertThat(c.messages(PageRequest.first()).items()).extracting(Message::text, Message::status)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("first", MessageStatus.COMPLETE),
                        org.assertj.core.groups.Tuple.tuple("", MessageStatus.CANCELLED));

        c.send(Prompt.text("second").build());

        assertThat(model.lastRequest().messages())
                .noneMatch(m -> m.role() == dev.parley.api.values.ModelMessage.Role.ASSISTANT && m.text().isEmpty())
                .extracting(dev.parley.api.values.ModelMessage::text).containsExactly("first", "second");
    }

    @Test
    void anErrorThrownByTheModelEndsTheStreamWithOneErrorEventAndReleasesTheLock() throws Exception {
        ScriptedModel broken = scripted().replyWith(r -> {
            throw new AssertionError("model bug");
        }).build();
        engine = engine(broken, PromptPipeline.defaults());
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.completions).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOfSatisfying(IllegalStateException.class,
                e -> assertThat(e.getCause()).isInstanceOf(AssertionError.class).hasMessage("model bug"));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(store.streamLock(c.id(), Clock.systemUTC().instant())).isEmpty();
    }

    @Test
    void anErrorThrownByAStageEndsTheStreamWithOneErrorEventAndTheConversationCanStreamAgain() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        PromptStage overflowing = chain -> {
            if (first.getAndSet(false)) {
                throw new StackOverflowError("stage bug");
            }
            return chain.proceed(chain.turn());
        };
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, overflowing));
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").id("m-1").build(), r));

        assertThat(r.terminalEvents()).isEqualTo(1);
        assertThat(r.errors).singleElement().satisfies(
                e -> assertThat(e.getCause()).isInstanceOf(StackOverflowError.class));
        Recorder again = new Recorder();
        awaitDone(c.stream(Prompt.text("x").id("m-1").build(), again));
        assertThat(again.completions).singleElement()
                .satisfies(rep -> assertThat(rep.text()).isEqualTo(ANSWER));
    }

    /** A stage whose chunk hook has a bug: it throws an exception that is no ParleyException. */
    private static final class BuggyWatcherStage implements PromptStage {
        @Override
        public dev.parley.api.values.TurnResult intercept(Chain chain) {
            chain.turn().streaming().ifPresent(stream -> stream.addChunkHook((delta, window) -> {
                if (window.contains("fox")) {
                    throw new IllegalArgumentException("hook bug");
                }
            }));
            return chain.proceed(chain.turn());
        }
    }

    @Test
    void aChunkHookThatThrowsAnUnexpectedExceptionFailsTheStreamNamingTheHooksStage() throws Exception {
        engine = engine(wordByWord(), PromptPipeline.defaults().insertBefore(ContextStage.class, new BuggyWatcherStage()));
        Conversation c = conversation();
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.completions).isEmpty();
        assertThat(r.errors).singleElement()
                .isNotInstanceOf(ModelUnavailableException.class)
                .isInstanceOfSatisfying(IllegalStateException.class, e -> {
                    assertThat(e.getMessage()).contains("BuggyWatcherStage").doesNotContain("ProviderCallStage");
                    assertThat(e.getCause()).hasMessage("hook bug");
                });
        assertThat(r.text()).isEqualTo("The quick brown ");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    /** Counts listener calls that overlap, and deltas that arrive after the terminal event. */
    private static final class WatchfulRecorder extends Recorder {
        final java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger overlaps = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger lateDeltas = new java.util.concurrent.atomic.AtomicInteger();
        volatile boolean ended;

        @Override
        public void onDelta(String delta) {
            if (inside.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            if (ended) {
                lateDeltas.incrementAndGet();
            }
            super.onDelta(delta);
            Thread.yield();
            inside.decrementAndGet();
        }

        @Override
        public void onComplete(Reply reply) {
            if (inside.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
            }
            ended = true;
            super.onComplete(reply);
            inside.decrementAndGet();
        }
    }

    @Test
    void deltasEmittedFromManyThreadsAtOnceReachTheListenerOneAtATimeEachExactlyOnceAndNeverAfterCompletion()
            throws Exception {
        int threads = 8;
        int before = 300;
        java.util.Set<String> accepted = java.util.concurrent.ConcurrentHashMap.newKeySet();
        java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
        WatchfulRecorder r = new WatchfulRecorder();
        ExecutorService emitters = Executors.newFixedThreadPool(threads);
        CountDownLatch emittersDone = new CountDownLatch(threads);
        // A host's provider stage that delivers from its own threads, and whose threads go on after completion.
        PromptStage concurrentProvider = chain -> {
            TurnStream out = chain.turn().stream();
            CountDownLatch enough = new CountDownLatch(threads);
            for (int t = 0; t < threads; t++) {
                int thread = t;
                emitters.execute(() -> {
                    try {
                        for (int i = 0; !r.ended || i < before * 2; i++) {
                            String delta = "[" + thread + ":" + i + "]";
                            if (out.emit(delta)) {
                                accepted.add(delta);
                            } else {
                                refused.incrementAndGet();
                            }
                            if (i == before) {
                                enough.countDown();
                            }
                        }
                    } finally {
                        emittersDone.countDown();
                    }
                });
            }
            try {
                enough.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            assertThat(out.complete()).isTrue();
            return dev.parley.api.values.TurnResult.fromModel(chain.turn(), out.text(), java.util.Optional.empty());
        };
        engine = engine(model, PromptPipeline.defaults().replace(ProviderCallStage.class, concurrentProvider));
        Conversation c = conversation();
        try {
            awaitDone(c.stream(Prompt.text("x").build(), r));
            assertThat(emittersDone.await(30, TimeUnit.SECONDS)).isTrue();
        } finally {
            emitters.shutdownNow();
        }

        assertThat(r.overlaps).hasValue(0);
        assertThat(r.lateDeltas).hasValue(0);
        assertThat(refused).hasPositiveValue();
        assertThat(r.deltas).doesNotHaveDuplicates().hasSameSizeAs(accepted).containsExactlyInAnyOrderElementsOf(accepted);
        Reply reply = r.completions.get(0);
        assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(reply.text()).isEqualTo(r.text());
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(r.text());
    }

    @Test
    void aCancelAfterTheModelCompletedIsANoOpAndTheReplyKeepsItsStatusAndUsage() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Conversation> target = new java.util.concurrent.atomic.AtomicReference<>();
        dev.parley.api.spi.ModelProvider lateCancel = new dev.parley.api.spi.ModelProvider() {
            @Override
            public dev.parley.api.values.ModelResponse chat(dev.parley.api.values.ModelRequest request) {
                return new dev.parley.api.values.ModelResponse("all done", new dev.parley.api.Usage(7, 2));
            }

            @Override
            public void stream(dev.parley.api.values.ModelRequest request, dev.parley.api.values.StreamingHandler handler) {
                handler.onDelta("all ");
                handler.onDelta("done");
                handler.onComplete(chat(request));
                // The caller's cancel arrives just after the model finished, before the engine stored the reply.
                target.get().cancelStream();
            }
        };
        engine = EngineFixture.builder(model, store, Clock.systemUTC()).model("late", lateCancel)
                .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofSeconds(3)).build()).build();
        Conversation c = conversation();
        target.set(c);
        Recorder r = new Recorder();

        awaitDone(c.stream(Prompt.text("x").model("late").build(), r));

        Reply reply = r.completions.get(0);
        assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(reply.text()).isEqualTo("all done");
        assertThat(reply.usage()).isEqualTo(new dev.parley.api.Usage(7, 2));
        Message stored = c.messages(PageRequest.first()).items().get(1);
        assertThat(stored.status()).isEqualTo(MessageStatus.COMPLETE);
        assertThat(c.info().tokensIn()).isEqualTo(7);
    }

    @Test
    void aStreamWhoseLockAnotherHolderTookFailsWithConversationLockedAndStoresNothing() throws Exception {
        Gate gate = new Gate();
        engine = engine(model, PromptPipeline.defaults().insertBefore(ContextStage.class, gate));
        Conversation c = conversation();
        Recorder r = new Recorder();

        StreamHandle h = c.stream(Prompt.text("x").id("m-1").build(), r);
        assertThat(gate.reached.await(30, TimeUnit.SECONDS)).isTrue();
        // The stream's lease ran out unnoticed and another engine took the lock.
        java.time.Instant now = Clock.systemUTC().instant();
        store.releaseStreamLock(c.id(), store.streamLock(c.id(), now).orElseThrow().holder());
        assertThat(store.acquireStreamLock(c.id(), "another-engine", now, Duration.ofSeconds(30))).isTrue();
        gate.release.countDown();
        awaitDone(h);

        assertThat(r.completions).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOf(ConversationLockedException.class);
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(store.streamLock(c.id(), Clock.systemUTC().instant()))
                .hasValueSatisfying(l -> assertThat(l.holder()).isEqualTo("another-engine"));
    }

    @Test
    void closingTheEngineUnderAStreamThatIgnoresItsCancelStoresThePartialReplyAndReleasesTheLockBeforeTheStoreCloses()
            throws Exception {
        CountDownLatch sent = new CountDownLatch(1);
        dev.parley.api.spi.ModelProvider stuck = new dev.parley.api.spi.ModelProvider() {
            @Override
            public dev.parley.api.values.ModelResponse chat(dev.parley.api.values.ModelRequest request) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void stream(dev.parley.api.values.ModelRequest request, dev.parley.api.values.StreamingHandler handler) {
                handler.onDelta("partial ");
                handler.onDelta("answer");
                sent.countDown();
                try {
                    new CountDownLatch(1).await(); // a provider stuck in a blocking read, deaf to cancel
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
        };
        java.util.concurrent.atomic.AtomicReference<String> conversationId = new java.util.concurrent.atomic.AtomicReference<>();
        List<Message> storedAtClose = new CopyOnWriteArrayList<>();
        List<Object> lockAtClose = new CopyOnWriteArrayList<>();
        ConversationStore watched = (ConversationStore) java.lang.reflect.Proxy.newProxyInstance(
                ConversationStore.class.getClassLoader(), new Class<?>[] {ConversationStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close") && conversationId.get() != null) {
                        storedAtClose.addAll(store.messages(conversationId.get(), PageRequest.first()).items());
                        lockAtClose.add(store.streamLock(conversationId.get(), Clock.systemUTC().instant()));
                    }
                    try {
                        return method.invoke(store, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        engine = EngineFixture.builder(model, watched, Clock.systemUTC()).model("stuck", stuck)
                .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofSeconds(3)).build()).build();
        Conversation c = conversation();
        conversationId.set(c.id());
        Recorder r = new Recorder();
        StreamHandle h = c.stream(Prompt.text("x").model("stuck").build(), r);
        assertThat(sent.await(30, TimeUnit.SECONDS)).isTrue();

        engine.close();

        assertThat(h.isDone()).isTrue();
        assertThat(r.errors).isEmpty();
        assertThat(r.completions).singleElement().satisfies(rep -> {
            assertThat(rep.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(rep.text()).isEqualTo("partial answer");
        });
        assertThat(storedAtClose).extracting(Message::text).containsExactly("x", "partial answer");
        assertThat(lockAtClose).containsExactly(java.util.Optional.empty());
    }

    @Test
    void streamsRunOnTheExecutorTheHostGaveWhichTheEngineLeavesRunning() throws Exception {
        ExecutorService hostPool = Executors.newFixedThreadPool(2, task -> new Thread(task, "host-stream"));
        try {
            engine = EngineFixture.builder(model, store, Clock.systemUTC()).streamExecutor(hostPool)
                    .timeouts(dev.parley.api.Timeouts.builder().streamLease(Duration.ofSeconds(3)).build()).build();
            List<String> threads = new CopyOnWriteArrayList<>();
            List<StreamHandle> handles = new ArrayList<>();
            List<Recorder> recorders = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // more streams than threads: the others wait their turn
                Recorder r = new Recorder() {
                    @Override
                    public void onDelta(String delta) {
                        threads.add(Thread.currentThread().getName());
                        super.onDelta(delta);
                    }
                };
                recorders.add(r);
                handles.add(conversation().stream(Prompt.text("x").build(), r));
            }
            for (StreamHandle h : handles) {
                awaitDone(h);
            }
            assertThat(recorders).allSatisfy(r -> assertThat(r.completions).singleElement()
                    .satisfies(rep -> assertThat(rep.text()).isEqualTo(ANSWER)));
            assertThat(threads).isNotEmpty().containsOnly("host-stream");
            engine.close();
            assertThat(hostPool.isShutdown()).isFalse();
        } finally {
            hostPool.shutdownNow();
        }
    }

    @Test
    void streamsOfTheEnginesOwnPoolRunOnNamedThreads() throws Exception {
        Conversation c = conversation();
        List<String> threads = new CopyOnWriteArrayList<>();
        Recorder r = new Recorder() {
            @Override
            public void onDelta(String delta) {
                threads.add(Thread.currentThread().getName());
                super.onDelta(delta);
            }
        };
        awaitDone(c.stream(Prompt.text("x").build(), r));
        assertThat(threads).isNotEmpty().allSatisfy(name -> assertThat(name).startsWith("parley-stream-"));
    }
}
