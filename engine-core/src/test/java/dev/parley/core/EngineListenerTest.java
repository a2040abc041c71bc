package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.RateLimitedException;
import dev.parley.api.RateLimits;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.Policy;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.TurnResult;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The engine listener's events: complete, paired and in the documented order, on success, failure, cancel and replay. */
public class EngineListenerTest {
    /** The store of the engines under test; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private static final String ANSWER = "one two three";
    private final Recorder events = new Recorder();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation(ScriptedModel model, EngineListener.Factory factory, PromptPipeline pipeline) {
        engine = EngineFixture.builder(model, newStore(), Clock.systemUTC()).eventListenerFactory(factory)
                .pipeline(pipeline).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    private Conversation conversation(ScriptedModel model) {
        return conversation(model, EngineListener.factory(events), PromptPipeline.defaults());
    }

    /** A conversation on an engine the test configures further, listened to by {@link #events}. */
    private Conversation conversation(ScriptedModel model, UnaryOperator<ConversationEngine.Builder> more) {
        engine = more.apply(EngineFixture.builder(model, newStore(), Clock.systemUTC()).eventListener(events)).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    /** Finds the word "forbidden", or every word "noted"; reports spans only. */
    private static Policy finding(String id, String word) {
        return new Policy() {
            @Override
            public String id() {
                return id;
            }

            @Override
            public List<Finding> check(PolicyInput input) {
                List<Finding> out = new ArrayList<>();
                for (int i = input.text().indexOf(word); i >= 0; i = input.text().indexOf(word, i + 1)) {
                    out.add(new Finding(i, i + word.length(), Finding.SECRET, id, "the word"));
                }
                return out;
            }
        };
    }

    /** Records each event as text, such as {@code stageStart AccessStage}. Thread safe. */
    static final class Recorder implements EngineListener {
        final List<String> all = new CopyOnWriteArrayList<>();
        final List<TurnContext> turns = new CopyOnWriteArrayList<>();
        final List<Usage> charged = new CopyOnWriteArrayList<>();
        final List<Credits> credits = new CopyOnWriteArrayList<>();

        @Override
        public void turnStart(TurnContext turn) {
            turns.add(turn);
            all.add("turnStart");
        }

        @Override
        public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
            all.add("turnEnd " + status + (replayed ? " replayed" : ""));
        }

        @Override
        public void turnFailed(TurnContext turn, RuntimeException error) {
            all.add("turnFailed " + error.getClass().getSimpleName());
        }

        @Override
        public void stageStart(TurnContext turn, String stage) {
            all.add("stageStart " + stage);
        }

        @Override
        public void stageEnd(TurnContext turn, String stage) {
            all.add("stageEnd " + stage);
        }

        @Override
        public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
            all.add("stageFailed " + stage);
        }

        @Override
        public void modelCallStart(TurnContext turn, String model) {
            all.add("modelCallStart " + model);
        }

        @Override
        public void firstDelta(TurnContext turn) {
            all.add("firstDelta");
        }

        @Override
        public void modelCallEnd(TurnContext turn, Usage usage) {
            all.add("modelCallEnd");
        }

        @Override
        public void modelCallFailed(TurnContext turn, RuntimeException error) {
            all.add("modelCallFailed " + error.getClass().getSimpleName());
        }

        @Override
        public void commitStart(TurnContext turn) {
            all.add("commitStart");
        }

        @Override
        public void commitEnd(TurnContext turn) {
            all.add("commitEnd");
        }

        @Override
        public void commitFailed(TurnContext turn, RuntimeException error) {
            all.add("commitFailed");
        }

        @Override
        public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
            all.add("policyChecked " + outcomes.stream().map(o -> o.ruleId() + ":" + o.phase() + ":" + o.status())
                    .collect(java.util.stream.Collectors.joining(",")));
        }

        @Override
        public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
            charged.add(usage);
            this.credits.add(credits);
            all.add("turnCharged");
        }

        @Override
        public void streamLockAcquired(TurnContext turn) {
            all.add("streamLockAcquired");
        }

        @Override
        public void streamLockReleased(TurnContext turn) {
            all.add("streamLockReleased");
        }
    }

    /** Every start has one end or failure after it, stages and the turn nested; the lock released once per take. */
    static void assertPaired(List<String> events) {
        Deque<String> open = new ArrayDeque<>();
        int locks = 0;
        for (String e : events) {
            String[] parts = e.split(" ", 2);
            String kind = parts[0];
            String what = parts.length > 1 ? parts[1] : "";
            if (kind.endsWith("Start")) {
                String scope = kind.substring(0, kind.length() - "Start".length());
                open.push(scope + (scope.equals("stage") ? " " + what : ""));
            } else if (kind.endsWith("End") || kind.endsWith("Failed")) {
                String scope = kind.substring(0, kind.length() - (kind.endsWith("End") ? 3 : 6));
                String expected = scope + (scope.equals("stage") ? " " + what : "");
                assertThat(open).as("open events before %s in %s", e, events).isNotEmpty();
                assertThat(open.pop()).as("what %s ends, in %s", e, events).isEqualTo(expected);
            } else if (kind.equals("streamLockAcquired")) {
                assertThat(++locks).as("lock taken twice in %s", events).isEqualTo(1);
            } else if (kind.equals("streamLockReleased")) {
                assertThat(--locks).as("lock released without being held in %s", events).isZero();
            }
        }
        assertThat(open).as("events never ended in %s", events).isEmpty();
        assertThat(locks).as("lock never released in %s", events).isZero();
    }

    @Test
    void aSendReportsEveryStageTheModelCallAndTheCommitInTheDocumentedOrder() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build());

        c.send(Prompt.text("hello").id("m-1").build());

        assertThat(events.all).containsExactly(
                "turnStart",
                "stageStart AccessStage",
                "stageStart IdempotencyStage",
                "stageStart PersistStage",
                "stageStart AccountingStage",
                "stageStart PolicyStage",
                "stageStart ContextStage",
                "stageStart BudgetStage",
                "stageStart ProviderCallStage",
                "modelCallStart " + EngineFixture.MODEL,
                "modelCallEnd",
                "stageEnd ProviderCallStage",
                "stageEnd BudgetStage",
                "stageEnd ContextStage",
                "stageEnd PolicyStage",
                "stageEnd AccountingStage",
                "commitStart",
                "commitEnd",
                "turnCharged",
                "stageEnd PersistStage",
                "stageEnd IdempotencyStage",
                "stageEnd AccessStage",
                "turnEnd COMPLETE");
        assertThat(events.turns).containsExactly(
                new EngineListener.TurnContext(c.id(), WS, "m-1", EngineFixture.MODEL, false));
    }

    @Test
    void aReplayEndsAtTheIdempotencyStageWithoutModelCallOrCommit() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build());
        c.send(Prompt.text("hello").id("m-1").build());
        events.all.clear();

        assertThat(c.send(Prompt.text("hello").id("m-1").build()).replayed()).isTrue();

        assertThat(events.all).containsExactly("turnStart", "stageStart AccessStage", "stageStart IdempotencyStage",
                "stageEnd IdempotencyStage", "stageEnd AccessStage", "turnEnd COMPLETE replayed");
    }

    @Test
    void aModelFailureFailsTheModelCallEveryStageOnTheWayUpAndTheTurn() {
        ScriptedModel failing = ScriptedModel.builder().replyWith(r -> {
            throw new IllegalStateException("upstream down");
        }).build();
        Conversation c = conversation(failing);

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build())).isInstanceOf(ModelUnavailableException.class);

        assertPaired(events.all);
        assertThat(events.all).contains("modelCallFailed ModelUnavailableException", "stageFailed ProviderCallStage",
                "stageFailed AccessStage").doesNotContain("commitStart", "turnEnd COMPLETE");
        assertThat(events.all.get(events.all.size() - 1)).isEqualTo("turnFailed ModelUnavailableException");
    }

    @Test
    void aStreamReportsItsLockAndFirstDeltaAndACancelledStreamEndsCancelled() throws Exception {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "word ".repeat(50).trim())
                .chunkDelay(Duration.ofMillis(2)).build();
        Conversation c = conversation(model);
        StreamingTest.Recorder r = new StreamingTest.Recorder() {
            @Override
            public void onDelta(String delta) {
                super.onDelta(delta);
                if (deltas.size() == 3) {
                    c.cancelStream();
                }
            }
        };

        StreamHandle h = c.stream(Prompt.text("go").id("s-1").build(), r);
        assertThat(h.await(Duration.ofSeconds(30))).isTrue();

        assertPaired(events.all);
        assertThat(events.all.get(0)).isEqualTo("turnStart");
        assertThat(events.all.get(1)).isEqualTo("streamLockAcquired");
        assertThat(events.all).containsSubsequence("modelCallStart " + EngineFixture.MODEL, "firstDelta", "modelCallEnd",
                "commitStart", "commitEnd", "stageEnd AccessStage", "streamLockReleased", "turnEnd CANCELLED");
        assertThat(events.all).filteredOn("firstDelta"::equals).hasSize(1);
        assertThat(events.turns).containsExactly(new EngineListener.TurnContext(c.id(), WS, "s-1", EngineFixture.MODEL, true));
    }

    @Test
    void aListenerThatThrowsOnEveryEventChangesNothing() throws Exception {
        EngineListener throwing = (EngineListener) Proxy.newProxyInstance(EngineListener.class.getClassLoader(),
                new Class<?>[]{EngineListener.class}, (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("equals") ? proxy == args[0]
                                : method.getName().equals("hashCode") ? System.identityHashCode(proxy) : "throwing";
                    }
                    throw new IllegalStateException("listener bug in " + method.getName());
                });
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> ANSWER).build();
        Conversation c = conversation(model, EngineListener.factory(throwing), PromptPipeline.defaults());

        Reply sent = c.send(Prompt.text("hello").build());
        StreamingTest.Recorder r = new StreamingTest.Recorder();
        assertThat(c.stream(Prompt.text("again").build(), r).await(Duration.ofSeconds(30))).isTrue();

        assertThat(sent.text()).isEqualTo(ANSWER);
        assertThat(r.completions).singleElement().satisfies(reply -> assertThat(reply.text()).isEqualTo(ANSWER));
        // A factory that throws gives the turn no listener; the turn goes on too.
        engine.close();
        Conversation other = conversation(model, turn -> {
            throw new IllegalStateException("factory bug");
        }, PromptPipeline.defaults());
        assertThat(other.send(Prompt.text("hello").build()).text()).isEqualTo(ANSWER);
    }

    @Test
    void eachTurnGetsItsOwnListenerFromTheFactory() {
        List<Recorder> created = new ArrayList<>();
        Conversation c = conversation(ScriptedModel.echo(), turn -> {
            Recorder r = new Recorder();
            created.add(r);
            return r;
        }, PromptPipeline.defaults());

        c.send(Prompt.text("one").build());
        c.send(Prompt.text("two").build());

        assertThat(created).hasSize(2).allSatisfy(r -> {
            assertPaired(r.all);
            assertThat(r.all).startsWith("turnStart").endsWith("turnEnd COMPLETE");
        });
    }

    @Test
    void aStageThatRetargetsTheTurnOnProceedIsAContractViolationNamingIt() {
        PromptStage retarget = new PromptStage() {
            @Override
            public TurnResult intercept(Chain chain) {
                var t = chain.turn();
                return chain.proceed(new dev.parley.api.values.Turn(t.conversation(), t.caller(), t.prompt(),
                        "another-id", t.model(), t.contextSize(), t.createdAt(), t.request(), t.promptTokens(),
                        t.requestTokens(), t.stream(), t.claimToken(), t.attributes()));
            }

            @Override
            public String name() {
                return "Retarget";
            }
        };
        Conversation c = conversation(ScriptedModel.echo(), EngineListener.factory(events),
                PromptPipeline.defaults().insertBefore(ContextStage.class, retarget));

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stage Retarget changed the turn's message id");
        assertPaired(events.all);
    }

    @Test
    void thePolicyStageReportsEachRulesOutcomeBeforeItReturns() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build(), b -> b.policies(PolicySet.of(
                PolicyRule.alert(finding("noted", "noted")).phases(PolicyPhase.PRE).build(),
                PolicyRule.block(finding("forbidden", "forbidden")).phases(PolicyPhase.POST).build())));

        c.send(Prompt.text("noted and noted").build());

        assertPaired(events.all);
        assertThat(events.all).containsSubsequence("stageStart PolicyStage", "modelCallEnd",
                "policyChecked noted:PRE:FOUND,forbidden:POST:PASSED", "stageEnd PolicyStage", "commitStart");
    }

    @Test
    void aBlockedTurnReportsItsOutcomesItsCommitAndItsChargeThenFails() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build(), b -> b.policies(PolicySet.of(
                PolicyRule.block(finding("forbidden", "forbidden")).phases(PolicyPhase.PRE).build())));

        assertThatThrownBy(() -> c.send(Prompt.text("a forbidden word").build()))
                .isInstanceOf(PolicyBlockedException.class);

        assertPaired(events.all);
        assertThat(events.all).doesNotContain("modelCallStart " + EngineFixture.MODEL);
        assertThat(events.all).containsSubsequence("stageStart PolicyStage", "policyChecked forbidden:PRE:FOUND",
                "stageEnd PolicyStage", "commitStart", "commitEnd", "turnCharged", "stageFailed PersistStage");
        assertThat(events.all.get(events.all.size() - 1)).isEqualTo("turnFailed PolicyBlockedException");
        assertThat(events.credits).containsExactly(Credits.unmetered());
    }

    @Test
    void noPolicyInScopeMeansNoPolicyEvent() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build());

        c.send(Prompt.text("hello").build());

        assertThat(events.all).noneMatch(e -> e.startsWith("policyChecked"));
    }

    @Test
    void turnChargedReportsTheSettledUsageAndTheCreditsTheCommitCharged() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).usage(120, 3).build(),
                b -> b.price(EngineFixture.MODEL, ModelPrice.perThousand("0", "1000")));
        var account = engine.credits().open(AccountOwner.organization(ORG));
        engine.credits().topUp(account.id(), new java.math.BigDecimal("100000"), "test funds");

        Reply reply = c.send(Prompt.text("hello").id("m-1").build());
        assertThat(c.send(Prompt.text("hello").id("m-1").build()).replayed()).isTrue(); // no second charge

        assertThat(events.charged).containsExactly(reply.usage());
        assertThat(events.credits).singleElement().satisfies(charged -> {
            assertThat(charged.metered()).isTrue();
            assertThat(charged.used()).isEqualByComparingTo("3");
            assertThat(charged).isEqualTo(reply.credits());
        });
    }

    @Test
    void aRateLimitedSendAndStreamAreATurnStartAndATurnFailedWithNothingBetween() {
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build(),
                b -> b.rateLimits(RateLimits.builder().perCaller(1, 0).build()));
        c.send(Prompt.text("hello").build());
        events.all.clear();

        assertThatThrownBy(() -> c.send(Prompt.text("again").build())).isInstanceOf(RateLimitedException.class);
        assertThat(events.all).containsExactly("turnStart", "turnFailed RateLimitedException");

        events.all.clear();
        assertThatThrownBy(() -> c.stream(Prompt.text("again").build(), new StreamingTest.Recorder()))
                .isInstanceOf(RateLimitedException.class);
        assertThat(events.all).containsExactly("turnStart", "turnFailed RateLimitedException");
    }

    @Test
    void severalFactoriesEachGiveTheTurnAListenerAndOneThatThrowsKeepsNoEventFromTheOthers() {
        Recorder second = new Recorder();
        EngineListener throwing = new EngineListener() {
            @Override
            public void stageStart(TurnContext turn, String stage) {
                throw new IllegalStateException("listener bug");
            }
        };
        EngineListener.Factory failingFactory = turn -> {
            throw new IllegalStateException("factory bug");
        };
        Conversation c = conversation(ScriptedModel.builder().replies(ANSWER).build(), EngineListener.factories(
                EngineListener.factory(events), EngineListener.factory(throwing), failingFactory,
                EngineListener.factory(second)), PromptPipeline.defaults());

        assertThat(c.send(Prompt.text("hello").build()).text()).isEqualTo(ANSWER);

        assertThat(events.all).isNotEmpty().isEqualTo(second.all);
        assertThat(events.all).contains("stageStart AccessStage").endsWith("turnEnd COMPLETE");
        assertThatThrownBy(EngineListener::factories).isInstanceOf(IllegalArgumentException.class);
    }
}
