package dev.parley.core;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ModelParameters;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline.Position;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;
import dev.parley.api.values.TurnResult;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Stages inserted at named positions, and stages inside the provider boundary that proceed more than once. */
class StagePositionsTest {
    private final InMemoryConversationStore store = new InMemoryConversationStore();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation(PromptPipeline pipeline, ModelProvider model) {
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .model("backup", ScriptedModel.builder().replyWith(r -> "backup answer").build())
                .pipeline(pipeline).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    /** A stage named {@code name} that notes what it sees on the way down and up. */
    private static PromptStage noting(String name, List<String> notes) {
        return EngineFixture.named(name, chain -> {
            var turn = chain.turn();
            notes.add(name + " down request=" + turn.request().size());
            TurnResult result = chain.proceed(turn);
            notes.add(name + " up usage=" + result.usage().isPresent() + " stored=" + result.messageId().isPresent());
            return result;
        });
    }

    @Test
    void theDefaultPipelineHasEveryPositionAndAStageAtEachSeesWhatThePositionPromises() {
        List<String> notes = new CopyOnWriteArrayList<>();
        PromptPipeline pipeline = PromptPipeline.defaults();
        assertThat(pipeline.positions()).containsExactly(Position.values());
        for (Position p : Position.values()) {
            pipeline = pipeline.insert(p, noting(p.name(), notes));
        }
        Conversation c = conversation(pipeline, ScriptedModel.builder().replyWith(r -> "hi").build());

        c.send(Prompt.text("hello").id("m-1").build());

        assertThat(notes).containsExactly(
                "FIRST down request=0",
                "ACCEPTED down request=0",
                "BEFORE_COMMIT down request=0",
                "BEFORE_CONTEXT down request=0",
                "BEFORE_MODEL_CALL down request=1",
                "BEFORE_MODEL_CALL up usage=false stored=false",
                "BEFORE_CONTEXT up usage=false stored=false",
                "BEFORE_COMMIT up usage=true stored=false",
                "ACCEPTED up usage=true stored=true",
                "FIRST up usage=true stored=true");

        // A replay reaches only the FIRST position.
        notes.clear();
        c.send(Prompt.text("hello").id("m-1").build());
        assertThat(notes).containsExactly("FIRST down request=0", "FIRST up usage=true stored=true");
    }

    @Test
    void stagesAtOnePositionRunInTheOrderTheyWereInsertedAndStayThereWhenADefaultStageIsReplacedOrRemoved() {
        List<String> notes = new CopyOnWriteArrayList<>();
        PromptStage wrappedContext = EngineFixture.named("WrappedContext", new ContextStage());
        PromptPipeline pipeline = PromptPipeline.defaults()
                .insert(Position.BEFORE_MODEL_CALL, noting("a", notes))
                .replace(ContextStage.class, wrappedContext)
                .insert(Position.BEFORE_MODEL_CALL, noting("b", notes))
                .insertBefore(AccountingStage.class, noting("beforeAccounting", notes))
                .insert(Position.BEFORE_COMMIT, noting("commit", notes))
                .remove(IdempotencyStage.class);

        assertThat(pipeline.stages()).extracting(PromptStage::name).containsExactly("AccessStage", "PersistStage",
                "commit", "beforeAccounting", "AccountingStage", "PolicyStage", "WrappedContext", "a", "b",
                "BudgetStage", "ProviderCallStage");
        assertThat(pipeline.stagesAt(Position.BEFORE_MODEL_CALL)).extracting(PromptStage::name).containsExactly("a", "b");
        assertThat(pipeline.stagesAt(Position.BEFORE_COMMIT)).extracting(PromptStage::name).containsExactly("commit");
        assertThat(pipeline.stagesAt(Position.ACCEPTED)).isEmpty();

        Conversation c = conversation(pipeline, ScriptedModel.builder().replyWith(r -> "hi").build());
        c.send(Prompt.text("hello").build());
        // A stage inserted just before a default stage stays just before it: the position's stages go in front.
        assertThat(notes).startsWith("commit down request=0", "beforeAccounting down request=0",
                "a down request=1", "b down request=1");
    }

    @Test
    void aPipelineWithoutPositionsRefusesAnInsertAtOneNamingThePosition() {
        PromptPipeline bare = PromptPipeline.of(List.of(new ContextStage(), new ProviderCallStage()));

        assertThat(bare.positions()).isEmpty();
        assertThatThrownBy(() -> bare.insert(Position.BEFORE_MODEL_CALL, chain -> chain.proceed(chain.turn())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("BEFORE_MODEL_CALL");
        assertThatThrownBy(() -> PromptPipeline.builder().position(Position.BEFORE_CONTEXT).position(Position.FIRST))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FIRST");
    }

    @Test
    void aReservationStageBeforeTheModelCallReadsTheRequestEstimateAndMaxOutputAndCanRefuseBeforeAnyCall() {
        List<Long> estimates = new CopyOnWriteArrayList<>();
        List<Integer> maxOutputs = new CopyOnWriteArrayList<>();
        long allowance = 60;
        PromptStage reserve = EngineFixture.named("Reserve", chain -> {
            var turn = chain.turn();
            estimates.add(turn.requestTokens().orElseThrow());
            int maxOut = turn.modelParameters().maxOutputTokens().orElse(0);
            maxOutputs.add(maxOut);
            if (turn.requestTokens().orElseThrow() + maxOut > allowance) {
                throw new BudgetExceededException("acct-1", java.math.BigDecimal.ONE);
            }
            return chain.proceed(turn);
        });
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "ok").build();
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL, reserve), model);

        c.send(Prompt.text("a short question").build());
        assertThatThrownBy(() -> c.send(Prompt.text("a short question")
                .modelParameters(ModelParameters.builder().maxOutputTokens(100).build()).build()))
                .isInstanceOf(BudgetExceededException.class);

        assertThat(model.callCount()).isEqualTo(1);
        // The estimate is the context stage's: the second request also holds the first turn.
        assertThat(estimates).hasSize(2).allMatch(e -> e > 0);
        assertThat(estimates.get(1)).isGreaterThan(estimates.get(0));
        assertThat(maxOutputs).containsExactly(0, 100);
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
    }

    @Test
    void aStageBeforeTheCommitSeesTheSettledUsageAndWhatItChargesReachesTheCallersReply() {
        java.util.concurrent.atomic.AtomicLong balance = new java.util.concurrent.atomic.AtomicLong(1_000);
        PromptStage charge = EngineFixture.named("Charge", chain -> {
            TurnResult result = chain.proceed(chain.turn());
            long used = result.usage().orElseThrow().tokensIn() + result.usage().orElseThrow().tokensOut();
            return result.withCredits(dev.parley.api.Credits.charged(java.math.BigDecimal.valueOf(used), java.math.BigDecimal.valueOf(balance.addAndGet(-used)), "acct-1"));
        });
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_COMMIT, charge),
                ScriptedModel.builder().replyWith(r -> "a reply of some words").build());

        Reply reply = c.send(Prompt.text("hello").build());

        assertThat(reply.credits().metered()).isTrue();
        long used = reply.usage().tokensIn() + reply.usage().tokensOut();
        assertThat(used).isPositive();
        assertThat(reply.credits().used()).isEqualByComparingTo(java.math.BigDecimal.valueOf(used));
        assertThat(reply.credits().remaining()).isEqualByComparingTo(java.math.BigDecimal.valueOf(1_000 - used));
        // Without a credits stage a reply is unmetered.
        engine.close();
        Reply plain = conversation(PromptPipeline.defaults(), ScriptedModel.builder().replyWith(r -> "x").build())
                .send(Prompt.text("hello").build());
        assertThat(plain.credits()).isEqualTo(dev.parley.api.Credits.unmetered());
    }

    /** A model that fails its first {@code failures} calls with an HTTP-like error, then answers. */
    private static final class Flaky implements ModelProvider {
        final AtomicInteger calls = new AtomicInteger();
        private final int failures;

        Flaky(int failures) {
            this.failures = failures;
        }

        @Override
        public ModelResponse chat(ModelRequest request) {
            if (calls.incrementAndGet() <= failures) {
                throw new IllegalStateException("upstream 503");
            }
            return new ModelResponse("answer " + calls.get(), null);
        }

        @Override
        public void stream(ModelRequest request, StreamingHandler handler) {
            if (calls.incrementAndGet() <= failures) {
                handler.onError(new IllegalStateException("upstream 503"));
                return;
            }
            handler.onDelta("answer ");
            handler.onDelta(String.valueOf(calls.get()));
            handler.onComplete(new ModelResponse("answer " + calls.get(), null));
        }
    }

    /** Proceeds up to {@code attempts} times while the model is unavailable; then gives up with the last failure. */
    private static PromptStage retry(int attempts, Function<Integer, String> modelForAttempt) {
        return EngineFixture.named("Retry", chain -> {
            ModelUnavailableException last = null;
            for (int i = 0; i < attempts; i++) {
                try {
                    return chain.proceed(chain.turn().withModel(modelForAttempt.apply(i)));
                } catch (ModelUnavailableException e) {
                    last = e;
                }
            }
            throw last;
        });
    }

    @Test
    void aRetryStageInsideTheProviderBoundaryProceedsAgainAfterAModelFailureAndTheListenerSeesEachCall() {
        Flaky model = new Flaky(2);
        List<String> events = new CopyOnWriteArrayList<>();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .pipeline(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL, retry(3, i -> EngineFixture.MODEL)))
                .eventListener(new EngineListener() {
                    @Override
                    public void modelCallStart(TurnContext turn, String m) {
                        events.add("start " + m);
                    }

                    @Override
                    public void modelCallFailed(TurnContext turn, RuntimeException error) {
                        events.add("failed");
                    }

                    @Override
                    public void modelCallEnd(TurnContext turn, dev.parley.api.Usage usage) {
                        events.add("end");
                    }
                }).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());

        Reply reply = c.send(Prompt.text("hello").build());

        assertThat(reply.text()).isEqualTo("answer 3");
        assertThat(model.calls).hasValue(3);
        assertThat(events).containsExactly("start scripted", "failed", "start scripted", "failed", "start scripted", "end");
        assertThat(c.messages(PageRequest.first()).items()).extracting(m -> m.text()).containsExactly("hello", "answer 3");
    }

    @Test
    void aFallbackStageAnswersWithAnotherRegisteredModelWhenTheFirstFailsAndTheReplyNamesIt() throws Exception {
        Flaky model = new Flaky(Integer.MAX_VALUE);
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL,
                retry(2, i -> i == 0 ? EngineFixture.MODEL : "backup")), model);

        Reply sent = c.send(Prompt.text("hello").build());
        StreamingTest.Recorder r = new StreamingTest.Recorder();
        assertThat(c.stream(Prompt.text("again").build(), r).await(Duration.ofSeconds(10))).isTrue();

        assertThat(sent.model()).isEqualTo("backup");
        assertThat(sent.text()).isEqualTo("backup answer");
        assertThat(r.completions).singleElement().satisfies(rep -> {
            assertThat(rep.model()).isEqualTo("backup");
            assertThat(rep.text()).isEqualTo("backup answer").isEqualTo(r.text());
        });
        assertThat(c.messages(PageRequest.first()).items().get(1).model()).contains("backup");
    }

    @Test
    void aStageOutsideTheProviderBoundaryThatProceedsTwiceIsAContractViolationNamingIt() {
        PromptStage twice = EngineFixture.named("Twice", chain -> {
            try {
                chain.proceed(chain.turn());
            } catch (RuntimeException ignored) {
                // fall through to the second proceed
            }
            return chain.proceed(chain.turn());
        });
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_CONTEXT, twice),
                new Flaky(1));

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Twice").hasMessageContaining("more than once");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aStreamedTurnMayBeRetriedBeforeAnyTextReachedTheCallerButNotAfter() throws Exception {
        // Before: the first call fails without a delta, the retry streams the answer.
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL,
                retry(2, i -> EngineFixture.MODEL)), new Flaky(1));
        StreamingTest.Recorder r = new StreamingTest.Recorder();
        assertThat(c.stream(Prompt.text("hello").build(), r).await(Duration.ofSeconds(10))).isTrue();
        assertThat(r.errors).isEmpty();
        assertThat(r.text()).isEqualTo("answer 2");
        engine.close();

        // After: a stage that proceeds again once text has streamed is refused, naming it.
        PromptStage again = EngineFixture.named("Again", chain -> {
            chain.proceed(chain.turn());
            return chain.proceed(chain.turn());
        });
        Conversation d = conversation(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL, again),
                ScriptedModel.builder().replyWith(q -> "streamed words").build());
        StreamingTest.Recorder s = new StreamingTest.Recorder();
        assertThat(d.stream(Prompt.text("hello").build(), s).await(Duration.ofSeconds(10))).isTrue();
        assertThat(s.errors).singleElement().satisfies(e -> assertThat(e)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Again").hasMessageContaining("after the stream delivered text"));
        assertThat(d.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aStageInsideTheBoundaryStillMayNotRetargetTheTurnOnProceed() {
        List<String> seen = new ArrayList<>();
        PromptStage retarget = EngineFixture.named("Retarget", chain -> {
            seen.add(chain.turn().promptId());
            return chain.proceed(new dev.parley.api.values.Turn(chain.turn().conversation(), chain.turn().caller(),
                    chain.turn().prompt(), "another-id", chain.turn().model(), chain.turn().contextSize(),
                    chain.turn().createdAt(), chain.turn().request(), chain.turn().promptTokens(),
                    chain.turn().requestTokens(), chain.turn().stream(), chain.turn().claimToken(),
                    chain.turn().attributes()));
        });
        Conversation c = conversation(PromptPipeline.defaults().insert(Position.BEFORE_MODEL_CALL, retarget),
                ScriptedModel.builder().replyWith(q -> "x").build());

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Retarget").hasMessageContaining("message id");
        assertThat(seen).hasSize(1);
    }
}
