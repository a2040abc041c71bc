package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.StreamHandle;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.StreamFilter.Release;
import dev.parley.api.spi.StreamFilter;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Stream filters: text held back, released and replaced before the caller's listener sees it, on the turn's
 * thread rather than the provider's.
 */
class StreamFilterTest {
    private static final String SECRET = "sk-proj-" + "Q7vN2xLm9RtY4bWc8KdF3hJs6PzA1eUg";
    private static final String REPLY = "Your key is " + SECRET + " so keep it safe.";
    private static final String REDACTED = "Your key is [REDACTED:SECRET] so keep it safe.";

    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation(ModelProvider model, PromptStage... stages) {
        PromptPipeline pipeline = PromptPipeline.defaults();
        for (PromptStage stage : stages) {
            pipeline = pipeline.insertBefore(ContextStage.class, stage);
        }
        if (engine == null) {
            engine = ConversationEngine.builder().store(new InMemoryConversationStore())
                    .model(EngineFixture.MODEL, model).pipeline(pipeline).build();
        }
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    private static void awaitDone(StreamHandle h) throws InterruptedException {
        assertThat(h.await(Duration.ofSeconds(30))).as("stream ended").isTrue();
    }

    /** A stage that puts a new filter from {@code filters} on every streamed turn. */
    private static PromptStage filtering(Supplier<StreamFilter> filters) {
        return chain -> {
            chain.turn().streaming().ifPresent(stream -> stream.addFilter(filters.get()));
            return chain.proceed(chain.turn());
        };
    }

    @Test
    void aSecretSplitAcrossDeltasAtAnyPositionNeverReachesTheListenerAndTheStoredReplyIsRedacted() throws Exception {
        Deltas model = new Deltas();
        List<List<String>> splits = new ArrayList<>();
        for (int i = 1; i < REPLY.length(); i++) {
            splits.add(List.of(REPLY.substring(0, i), REPLY.substring(i)));
        }
        List<String> oneByOne = new ArrayList<>();
        for (char ch : REPLY.toCharArray()) {
            oneByOne.add(String.valueOf(ch));
        }
        splits.add(oneByOne);

        for (List<String> split : splits) {
            Conversation c = conversation(model, filtering(SecretRedactor::new));
            model.next(split);
            StreamingTest.Recorder r = new StreamingTest.Recorder();
            awaitDone(c.stream(Prompt.text("my key?").build(), r));

            // The concatenation is exact: not one character of the secret went to the listener, in any delta.
            assertThat(r.text()).as("split %s", split.get(0).length()).isEqualTo(REDACTED);
            assertThat(r.completions).singleElement().satisfies(reply -> {
                assertThat(reply.text()).isEqualTo(REDACTED);
                assertThat(reply.status()).isEqualTo(MessageStatus.COMPLETE);
            });
            assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(REDACTED);
        }
    }

    @Test
    void aWatchOnlyHookCannotDoWhatAFilterDoes_theFirstHalfOfASplitSecretReachesTheListenerBeforeItsWindowSeesIt()
            throws Exception {
        // The reason filters exist: a hook sees text only as it is handed on, so it can stop the stream but not
        // take back the half of the secret that came first.
        Deltas model = new Deltas();
        Conversation c = conversation(model, chain -> {
            chain.turn().streaming().ifPresent(s -> s.addChunkHook((delta, window) -> {
                if (window.contains(SECRET)) {
                    throw new PolicyBlockedException("secrets", "the reply holds a secret");
                }
            }));
            return chain.proceed(chain.turn());
        });
        int half = REPLY.indexOf(SECRET) + SECRET.length() / 2;
        model.next(List.of(REPLY.substring(0, half), REPLY.substring(half)));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("my key?").build(), r));

        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(r.text()).contains(SECRET.substring(0, SECRET.length() / 2));
    }

    @Test
    void aSlowFilterRunsOffTheProvidersThreadSoTheProviderFinishesWhileTheFilterStillChecks() throws Exception {
        Deltas model = new Deltas();
        List<String> threads = new CopyOnWriteArrayList<>();
        List<Boolean> providerFinishedFirst = new CopyOnWriteArrayList<>();
        Conversation c = conversation(model, filtering(() -> (pending, end) -> {
            threads.add(Thread.currentThread().getName());
            try {
                // Waits until the provider has delivered everything and completed: were this the provider's
                // thread, it could not, and the wait would time out.
                providerFinishedFirst.add(model.finished.await(10, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Release.all(pending);
        }));
        model.next(List.of("one ", "two ", "three ", "four"));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("count").build(), r));

        assertThat(providerFinishedFirst).isNotEmpty().containsOnly(true);
        assertThat(threads).doesNotContain(model.threadName);
        assertThat(r.text()).isEqualTo("one two three four");
        assertThat(r.completions).singleElement().satisfies(reply -> assertThat(reply.text()).isEqualTo("one two three four"));
    }

    @Test
    void filtersRunInnermostFirstAndAnOuterFilterSeesWhatTheInnerOneReleased() throws Exception {
        List<String> outerSaw = new CopyOnWriteArrayList<>();
        ScriptedModel words = ScriptedModel.builder().replyWith(req -> "The quick brown fox jumps").build();
        // The first stage is the outer one: it registers first and sees last.
        Conversation c = conversation(words,
                filtering(() -> (pending, end) -> {
                    outerSaw.add(pending);
                    return Release.replace(pending.length(), pending.toUpperCase(java.util.Locale.ROOT));
                }),
                filtering(() -> (pending, end) -> Release.replace(pending.length(), pending.replace("fox", "cat"))));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(String.join("", outerSaw)).isEqualTo("The quick brown cat jumps");
        assertThat(r.text()).isEqualTo("THE QUICK BROWN CAT JUMPS");
        assertThat(r.completions.get(0).text()).isEqualTo("THE QUICK BROWN CAT JUMPS");
    }

    @Test
    void textHeldBackWhenTheStreamIsCancelledIsDroppedAndTheStoredReplyIsWhatTheCallerSaw() throws Exception {
        Deltas model = new Deltas();
        CountDownLatch held = new CountDownLatch(1);
        // Holds everything from "brown" on.
        Conversation c = conversation(model, filtering(() -> (pending, end) -> {
            int at = pending.indexOf("brown");
            if (at < 0 || end) {
                return Release.all(pending);
            }
            held.countDown();
            return Release.prefix(pending, at);
        }));
        model.next(List.of("The quick ", "brown ", "fox"));
        model.pauseAfter(2);
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        StreamHandle h = c.stream(Prompt.text("x").build(), r);
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        h.cancel();
        model.resume();
        awaitDone(h);

        assertThat(r.text()).isEqualTo("The quick ");
        assertThat(r.completions).singleElement().satisfies(reply -> {
            assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
            assertThat(reply.text()).isEqualTo("The quick ");
        });
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo("The quick ");
    }

    @Test
    void aFilterStillHoldingTextAtTheEndFailsTheTurnNamingItsStageAndNothingIsStored() throws Exception {
        assertFailsNamingTheStage((pending, end) -> Release.hold(), "still held");
    }

    @Test
    void aFilterReleasingMoreThanItWasGivenFailsTheTurnNamingItsStage() throws Exception {
        assertFailsNamingTheStage((pending, end) -> new Release(pending.length() + 1, pending), "released");
    }

    @Test
    void aFilterHoldingMoreThanTheLimitFailsTheTurnNamingItsStage() throws Exception {
        Deltas model = new Deltas();
        Conversation c = conversation(model, EngineFixture.named("Hoarder", filtering(() -> (pending, end) -> end
                ? Release.all(pending) : Release.hold())));
        model.next(List.of("a".repeat(StreamFilter.MAX_HELD), "b"));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.errors).singleElement(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Hoarder").hasMessageContaining("more than " + StreamFilter.MAX_HELD);
        assertThat(r.deltas).isEmpty();
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aFilterThatBlocksAtTheEndWithholdsTheWholeReplyAndNothingIsStored() throws Exception {
        Deltas model = new Deltas();
        StringBuilder seen = new StringBuilder();
        Conversation c = conversation(model, filtering(() -> (pending, end) -> {
            if (end) {
                seen.append(pending);
                throw new PolicyBlockedException("whole-reply", "the reply is not allowed");
            }
            return Release.hold();
        }));
        model.next(List.of("some ", "reply"));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(seen.toString()).isEqualTo("some reply");
        assertThat(r.deltas).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aFilterAddedAfterTheStreamBeganIsRefusedNamingTheStage() throws Exception {
        Deltas model = new Deltas();
        Conversation c = conversation(model, EngineFixture.named("Latecomer", chain -> {
            chain.turn().streaming().ifPresent(s -> s.addChunkHook((delta, window) ->
                    s.addFilter((pending, end) -> Release.all(pending))));
            return chain.proceed(chain.turn());
        }));
        model.next(List.of("a", "b"));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.errors).singleElement(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Latecomer").hasMessageContaining("after the stream began");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    private void assertFailsNamingTheStage(StreamFilter filter, String what) throws Exception {
        Deltas model = new Deltas();
        Conversation c = conversation(model, EngineFixture.named("Faulty", filtering(() -> filter)));
        model.next(List.of("some ", "reply"));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("x").build(), r));

        assertThat(r.errors).singleElement(org.assertj.core.api.InstanceOfAssertFactories.THROWABLE)
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Faulty").hasMessageContaining(what);
        assertThat(r.completions).isEmpty();
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    /**
     * Redacts API-key-like secrets ({@code sk-} and 20 or more key characters), holding back any tail that may
     * be the start of one until it is whole or proven not to be one.
     */
    static final class SecretRedactor implements StreamFilter {
        private static final Pattern KEY = Pattern.compile("sk-[A-Za-z0-9_-]{20,}");
        private static final Pattern KEY_CHAR = Pattern.compile("[A-Za-z0-9_-]");

        @Override
        public Release filter(String pending, boolean end) {
            int safe = end ? pending.length() : safeLength(pending);
            String checked = pending.substring(0, safe);
            Matcher m = KEY.matcher(checked);
            return Release.replace(safe, m.replaceAll("[REDACTED:SECRET]"));
        }

        /** How much of {@code text} cannot change by what comes next: everything before a possible key start. */
        private static int safeLength(String text) {
            int run = text.length();
            while (run > 0 && KEY_CHAR.matcher(text.substring(run - 1, run)).matches()) {
                run--;
            }
            // The trailing run of key characters may still grow into a key, or be one that goes on.
            String tail = text.substring(run);
            int key = tail.indexOf("sk-");
            if (key >= 0) {
                return run + key;
            }
            if (tail.endsWith("sk")) {
                return text.length() - 2;
            }
            return tail.endsWith("s") ? text.length() - 1 : text.length();
        }
    }

    /**
     * A model that delivers the next scripted deltas from its own thread, as LangChain4j's streaming models
     * do, and can pause between them.
     */
    static final class Deltas implements ModelProvider {
        final String threadName = "provider-callback";
        volatile CountDownLatch finished = new CountDownLatch(1);
        private volatile List<String> next = List.of();
        private volatile int pauseAfter = -1;
        private final CountDownLatch resume = new CountDownLatch(1);

        void next(List<String> deltas) {
            this.next = deltas;
        }

        void pauseAfter(int deltas) {
            this.pauseAfter = deltas;
        }

        void resume() {
            resume.countDown();
        }

        @Override
        public ModelResponse chat(ModelRequest request) {
            return new ModelResponse(String.join("", next), null);
        }

        @Override
        public void stream(ModelRequest request, StreamingHandler handler) {
            List<String> deltas = next;
            CountDownLatch done = new CountDownLatch(1);
            finished = done;
            Thread t = new Thread(() -> {
                StringBuilder sent = new StringBuilder();
                for (int i = 0; i < deltas.size(); i++) {
                    if (i == pauseAfter) {
                        try {
                            resume.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    if (handler.cancelled()) {
                        break;
                    }
                    handler.onDelta(deltas.get(i));
                    sent.append(deltas.get(i));
                }
                handler.onComplete(new ModelResponse(sent.toString(), null));
                done.countDown();
            }, threadName);
            t.setDaemon(true);
            t.start();
        }
    }
}
