package dev.parley.micrometer;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.testing.ScriptedModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** ParleyMetrics as a MeterBinder: bound to the registry it was built with, to another one, and built unbound. */
class ParleyMetricsBinderTest {
    private static final Caller ALICE = Caller.user("alice", "org-1").member("ws-1").build();

    private final List<ConversationEngine> engines = new ArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private Conversation conversation(ParleyMetrics metrics) {
        ConversationEngine engine = ConversationEngine.builder().store(new InMemoryConversationStore())
                .model("scripted", ScriptedModel.echo()).eventListenerFactory(metrics).build();
        engines.add(engine);
        return engine.as(ALICE).create(NewConversation.inWorkspace("ws-1").build());
    }

    private static double completed(MeterRegistry registry) {
        return registry.get(ParleyMetrics.TURNS).tags("outcome", "COMPLETE").counter().count();
    }

    private static long turnTimings(MeterRegistry registry) {
        return registry.get(ParleyMetrics.TURN).timer().count();
    }

    @Test
    void bindingToTheRegistryItWasBuiltWithChangesNothing() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ParleyMetrics metrics = ParleyMetrics.builder(registry).build();
        MeterBinder binder = metrics;
        binder.bindTo(registry);
        binder.bindTo(registry);
        int meters = registry.getMeters().size();
        conversation(metrics).send(Prompt.text("Hello").build());

        assertThat(completed(registry)).isEqualTo(1);
        assertThat(turnTimings(registry)).isEqualTo(1);
        assertThat(registry.find(ParleyMetrics.ACTIVE_STREAMS).gauges()).hasSize(1);
        assertThat(meters).isEqualTo(1); // the gauge only, until a turn
        assertThat(metrics.meters()).isSameAs(registry);
    }

    @Test
    void boundToASecondRegistryItRecordsOnBothFromThenOn() {
        SimpleMeterRegistry first = new SimpleMeterRegistry();
        SimpleMeterRegistry second = new SimpleMeterRegistry();
        ParleyMetrics metrics = ParleyMetrics.builder(first).build();
        Conversation c = conversation(metrics);
        c.send(Prompt.text("before").build());

        metrics.bindTo(second);
        metrics.bindTo(second);
        c.send(Prompt.text("after").build());

        assertThat(completed(first)).isEqualTo(2);
        assertThat(turnTimings(first)).isEqualTo(2);
        assertThat(completed(second)).isEqualTo(1);
        assertThat(turnTimings(second)).isEqualTo(1);
        assertThat(second.find(ParleyMetrics.ACTIVE_STREAMS).gauges()).hasSize(1);
        assertThat(first.find(ParleyMetrics.TURNS).counters()).hasSize(1);
    }

    @Test
    void builtUnboundItRecordsNothingUntilBoundThenOnEveryBoundRegistry() {
        ParleyMetrics metrics = ParleyMetrics.builder().build();
        Conversation c = conversation(metrics);
        c.send(Prompt.text("unbound").build());

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        metrics.bindTo(registry);
        assertThat(registry.find(ParleyMetrics.ACTIVE_STREAMS).gauges()).hasSize(1);
        c.send(Prompt.text("bound").build());
        assertThat(completed(registry)).isEqualTo(1);

        SimpleMeterRegistry later = new SimpleMeterRegistry();
        metrics.bindTo(later);
        // The meters made so far are handed to the later registry at once, with nothing counted yet.
        assertThat(later.find(ParleyMetrics.TURNS).counters()).hasSize(1);
        assertThat(completed(later)).isZero();
        c.send(Prompt.text("twice bound").build());
        assertThat(completed(registry)).isEqualTo(2);
        assertThat(completed(later)).isEqualTo(1);
    }

    @Test
    void bindingToNoRegistryFails() {
        ParleyMetrics metrics = ParleyMetrics.builder(new SimpleMeterRegistry()).build();
        assertThatThrownBy(() -> metrics.bindTo(null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("registry");
    }
}
