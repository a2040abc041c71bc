package dev.parley.micrometer;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.RateLimitedException;
import dev.parley.api.RateLimits;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.Policy;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.testing.ScriptedModel;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The meters after scripted turns of every kind: exact counts and tags, and no prompt text anywhere in them.
 */
class ParleyMetricsTest {
    private static final String ORG = "org-1";
    private static final String WS = "ws-1";
    private static final String POOR_WS = "ws-2";
    private static final String MODEL = "scripted";
    /** Every prompt carries this word; no meter may. */
    private static final String MARK = "zebra";

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<ConversationEngine> engines = new ArrayList<>();
    private final Caller alice = Caller.user("alice", ORG).member(WS).member(POOR_WS).build();

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private static ScriptedModel model() {
        return ScriptedModel.builder()
                .replyWith(r -> {
                    String last = r.messages().get(r.messages().size() - 1).text();
                    if (last.contains("fail")) {
                        throw new IllegalStateException("upstream down");
                    }
                    return "word ".repeat(40).trim();
                })
                .usage(100, 40)
                .chunkDelay(Duration.ofMillis(1))
                .build();
    }

    private ConversationEngine engine(ConversationEngine.Builder b) {
        ConversationEngine e = b.build();
        engines.add(e);
        return e;
    }

    private ConversationEngine.Builder builder(ParleyMetrics metrics) {
        return ConversationEngine.builder().store(new InMemoryConversationStore()).model(MODEL, model())
                .eventListenerFactory(metrics);
    }

    /** Finds {@code word} wherever it is. */
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

    private double count(String name, String... tags) {
        return registry.get(name).tags(tags).counter().count();
    }

    private long timerCount(String name, String... tags) {
        return registry.find(name).tags(tags).timers().stream().mapToLong(Timer::count).sum();
    }

    /** Streams a prompt and cancels it after three deltas; returns the active-streams gauge seen meanwhile. */
    private double cancelledStream(Conversation c, String text) throws InterruptedException {
        double[] active = new double[1];
        List<String> deltas = new CopyOnWriteArrayList<>();
        StreamHandle h = c.stream(Prompt.text(text).build(), new StreamListener() {
            @Override
            public void onDelta(String delta) {
                deltas.add(delta);
                if (deltas.size() == 3) {
                    active[0] = registry.get(ParleyMetrics.ACTIVE_STREAMS).gauge().value();
                    c.cancelStream();
                }
            }

            @Override
            public void onComplete(Reply reply) {
            }

            @Override
            public void onError(RuntimeException error) {
            }
        });
        assertThat(h.await(Duration.ofSeconds(30))).isTrue();
        return active[0];
    }

    @Test
    void everyKindOfTurnIsCountedOnceWithItsOutcomeAndModelAndNoMeterCarriesPromptText() throws Exception {
        ParleyMetrics metrics = ParleyMetrics.builder(registry).build();
        ConversationEngine governed = engine(builder(metrics)
                .price(MODEL, ModelPrice.perThousand("1", "2"))
                .policies(PolicySet.of(
                        PolicyRule.alert(finding("noted", "noted")).phases(PolicyPhase.PRE).build(),
                        PolicyRule.block(finding("forbidden", "forbidden")).phases(PolicyPhase.PRE).build())));
        CreditAccount funded = governed.credits().open(AccountOwner.organization(ORG));
        governed.credits().topUp(funded.id(), new BigDecimal("1000000"), "test funds");
        governed.credits().open(AccountOwner.workspace(ORG, POOR_WS)); // nothing in it: its turns are refused
        Conversation c = governed.as(alice).create(NewConversation.inWorkspace(WS).build());
        Conversation poor = governed.as(alice).create(NewConversation.inWorkspace(POOR_WS).build());
        ConversationEngine limited = engine(builder(metrics).rateLimits(RateLimits.builder().perCaller(1, 0).build()));
        Conversation l = limited.as(alice).create(NewConversation.inWorkspace(WS).build());

        c.send(Prompt.text(MARK + " noted, noted").id("m-1").build());
        assertThat(c.send(Prompt.text(MARK + " noted, noted").id("m-1").build()).replayed()).isTrue();
        assertThatThrownBy(() -> c.send(Prompt.text(MARK + " please fail").build()))
                .isInstanceOf(ModelUnavailableException.class);
        double activeDuringStream = cancelledStream(c, MARK + " stream");
        assertThatThrownBy(() -> c.send(Prompt.text(MARK + " a forbidden word").build()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThatThrownBy(() -> poor.send(Prompt.text(MARK + " on credit").build()))
                .isInstanceOf(BudgetExceededException.class);
        l.send(Prompt.text(MARK + " once").build());
        assertThatThrownBy(() -> l.send(Prompt.text(MARK + " twice").build()))
                .isInstanceOf(RateLimitedException.class);

        assertThat(count(ParleyMetrics.TURNS, "model", MODEL, "outcome", "COMPLETE", "streaming", "false")).isEqualTo(2);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "REPLAYED")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "MODEL_UNAVAILABLE")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "CANCELLED", "streaming", "true")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "POLICY_BLOCKED")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "BUDGET_EXCEEDED")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "outcome", "RATE_LIMITED")).isEqualTo(1);
        assertThat(registry.find(ParleyMetrics.TURNS).counters()).hasSize(7)
                .allSatisfy(counter -> assertThat(counter.getId().getTag("model")).isEqualTo(MODEL));

        assertThat(count(ParleyMetrics.REPLAYS, "model", MODEL)).isEqualTo(1);
        assertThat(count(ParleyMetrics.REFUSALS, "reason", "POLICY_BLOCKED")).isEqualTo(1);
        assertThat(count(ParleyMetrics.REFUSALS, "reason", "BUDGET_EXCEEDED")).isEqualTo(1);
        assertThat(count(ParleyMetrics.REFUSALS, "reason", "RATE_LIMITED")).isEqualTo(1);
        assertThat(registry.find(ParleyMetrics.REFUSALS).counters()).hasSize(3);

        assertThat(count(ParleyMetrics.POLICY_FINDINGS, "policy", "noted", "action", "ALERT", "phase", "PRE"))
                .isEqualTo(2);
        assertThat(count(ParleyMetrics.POLICY_FINDINGS, "policy", "forbidden", "action", "BLOCK", "phase", "PRE"))
                .isEqualTo(1);
        assertThat(registry.find(ParleyMetrics.POLICY_FINDINGS).counters()).hasSize(2);

        // Tokens and credits of committed turns (the blocked and the cancelled ones too), as the store counted them.
        long in = 0;
        long out = 0;
        for (Conversation each : List.of(c, poor, l)) {
            ConversationInfo info = each.info();
            in += info.tokensIn();
            out += info.tokensOut();
        }
        assertThat(in).isPositive();
        assertThat(count(ParleyMetrics.TOKENS, "model", MODEL, "type", "input")).isEqualTo(in);
        assertThat(count(ParleyMetrics.TOKENS, "model", MODEL, "type", "output")).isEqualTo(out);
        BigDecimal spent = new BigDecimal("1000000").subtract(governed.credits().account(funded.id()).orElseThrow()
                .balance());
        assertThat(spent).isPositive();
        assertThat(BigDecimal.valueOf(count(ParleyMetrics.CREDITS, "model", MODEL))).isEqualByComparingTo(spent);

        // Timings: each turn once, the provider stage of each turn that reached the model, one first delta.
        assertThat(timerCount(ParleyMetrics.TURN, "model", MODEL)).isEqualTo(8);
        assertThat(timerCount(ParleyMetrics.TURN, "outcome", "COMPLETE", "streaming", "false")).isEqualTo(2);
        assertThat(timerCount(ParleyMetrics.STAGE, "stage", "ProviderCallStage")).isEqualTo(4);
        assertThat(timerCount(ParleyMetrics.STAGE, "stage", "AccessStage")).isEqualTo(7); // not the rate-limited
        assertThat(timerCount(ParleyMetrics.MODEL_CALL, "outcome", "OK")).isEqualTo(3);
        assertThat(timerCount(ParleyMetrics.MODEL_CALL, "outcome", "MODEL_UNAVAILABLE")).isEqualTo(1);
        assertThat(timerCount(ParleyMetrics.FIRST_DELTA, "model", MODEL)).isEqualTo(1);
        Timer turnTimer = registry.get(ParleyMetrics.TURN).tags("outcome", "COMPLETE").timer();
        assertThat(turnTimer.takeSnapshot().percentileValues()).hasSize(3);

        assertThat(activeDuringStream).isEqualTo(1);
        assertThat(registry.get(ParleyMetrics.ACTIVE_STREAMS).gauge().value()).isZero();

        for (Meter meter : registry.getMeters()) {
            assertThat(meter.getId().getName()).doesNotContain(MARK);
            for (Tag tag : meter.getId().getTags()) {
                assertThat(tag.getValue()).as("tag %s of %s", tag.getKey(), meter.getId().getName())
                        .doesNotContain(MARK).doesNotContain("noted, noted").doesNotContain("please");
                assertThat(tag.getKey()).isNotEqualTo("workspace");
            }
        }
    }

    @Test
    void theWorkspaceTagIsTheHostsChoice() {
        ParleyMetrics metrics = ParleyMetrics.builder(registry).tagWorkspace().build();
        ConversationEngine e = engine(builder(metrics));
        Conversation c = e.as(alice).create(NewConversation.inWorkspace(WS).build());
        Conversation other = e.as(alice).create(NewConversation.inWorkspace(POOR_WS).build());

        c.send(Prompt.text(MARK).build());
        other.send(Prompt.text(MARK).build());
        other.send(Prompt.text(MARK).build());

        assertThat(count(ParleyMetrics.TURNS, "workspace", WS, "outcome", "COMPLETE")).isEqualTo(1);
        assertThat(count(ParleyMetrics.TURNS, "workspace", POOR_WS, "outcome", "COMPLETE")).isEqualTo(2);
        assertThat(timerCount(ParleyMetrics.TURN, "workspace", POOR_WS)).isEqualTo(2);
        assertThatThrownBy(() -> ParleyMetrics.builder(registry).tagWorkspace().tagWorkspace())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("tagWorkspace was already set");
    }

    /** Records each observation's context as it stops. Thread safe. */
    static final class Recorded implements ObservationHandler<Observation.Context> {
        final List<Observation.Context> stopped = new CopyOnWriteArrayList<>();

        @Override
        public boolean supportsContext(Observation.Context context) {
            return true;
        }

        @Override
        public void onStop(Observation.Context context) {
            stopped.add(context);
        }
    }

    private static Observation.Context named(List<Observation.Context> all, String name, String stage) {
        return all.stream().filter(o -> o.getName().equals(name)
                        && (stage == null || stage.equals(o.getLowCardinalityKeyValues().stream()
                        .filter(kv -> kv.getKey().equals("stage")).map(kv -> kv.getValue()).findFirst().orElse(null))))
                .findFirst().orElseThrow();
    }

    @Test
    void onTheHostsObservationRegistryStagesAndTheModelCallAreChildrenOfTheTurnOnAStreamsThreadToo()
            throws Exception {
        Recorded recorded = new Recorded();
        ObservationRegistry observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(recorded);
        ParleyMetrics metrics = ParleyMetrics.builder(registry).observationRegistry(observations).build();
        ConversationEngine e = engine(builder(metrics));
        Conversation c = e.as(alice).create(NewConversation.inWorkspace(WS).build());

        Observation request = Observation.start("host.request", observations);
        try (Observation.Scope scope = request.openScope()) {
            StreamHandle h = c.stream(Prompt.text(MARK).build(), new StreamListener() {
                @Override
                public void onDelta(String delta) {
                }

                @Override
                public void onComplete(Reply reply) {
                }

                @Override
                public void onError(RuntimeException error) {
                }
            });
            assertThat(h.await(Duration.ofSeconds(30))).isTrue();
        }
        request.stop();

        List<Observation.Context> all = recorded.stopped;
        Observation.Context turn = named(all, ParleyMetrics.TURN, null);
        assertThat(turn.getParentObservation().getContextView().getName()).isEqualTo("host.request");
        Observation.Context access = named(all, ParleyMetrics.STAGE, "AccessStage");
        assertThat(access.getParentObservation().getContextView()).isSameAs(turn);
        Observation.Context provider = named(all, ParleyMetrics.STAGE, "ProviderCallStage");
        Observation.Context call = named(all, ParleyMetrics.MODEL_CALL, null);
        assertThat(call.getParentObservation().getContextView()).isSameAs(provider);
        assertThat(turn.getHighCardinalityKeyValue("parley.conversation.id").getValue()).isEqualTo(c.id());
        // The host's registry makes the timers, if it has a handler for them: this one has none.
        assertThat(registry.find(ParleyMetrics.TURN).timers()).isEmpty();
        assertThat(count(ParleyMetrics.TURNS, "outcome", "COMPLETE", "streaming", "true")).isEqualTo(1);
    }
}
