package dev.parley.core;

import dev.parley.api.ConversationEngine;
import dev.parley.api.ModelScope;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Timeouts;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Clock;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every builder option may be set once, and the timeouts are checked together. */
class BuilderOptionsTest {

    static Stream<Arguments> options() {
        return Stream.of(
                option("store", b -> b.store(new InMemoryConversationStore())),
                option("defaultModel", b -> b.defaultModel("m")),
                option("pipeline", b -> b.pipeline(PromptPipeline.defaults())),
                option("clock", b -> b.clock(Clock.systemUTC())),
                option("ids", b -> b.ids(() -> "id")),
                option("tokenCounter", b -> b.tokenCounter(text -> 1)),
                option("steeringResolver", b -> b.steeringResolver(SteeringResolver.none())),
                option("steeringCacheTtl", b -> b.steeringCacheTtl(Duration.ZERO)),
                option("timeouts", b -> b.timeouts(Timeouts.defaults())),
                option("streamExecutor", b -> b.streamExecutor(Runnable::run)),
                option("scopeDirectory", b -> b.scopeDirectory(ScopeDirectory.none())),
                option("eventSink", b -> b.eventSink(EventSink.NONE)),
                option("defaultContextSize", b -> b.defaultContextSize(100)),
                option("defaultContextWindow", b -> b.defaultContextWindow(1000)),
                option("model", b -> b.model(ModelScope.global(), "m", ScriptedModel.echo())));
    }

    private static Arguments option(String name, Consumer<ConversationEngine.Builder> set) {
        return Arguments.of(name, set);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("options")
    void aSecondSetOfAnOptionIsRefusedNamingIt(String name, Consumer<ConversationEngine.Builder> set) {
        ConversationEngine.Builder builder = ConversationEngine.builder();
        set.accept(builder);

        assertThatThrownBy(() -> set.accept(builder))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(name.equals("model") ? "model m was already registered" : name + " was already set");
    }

    @Test
    void aValueOutOfRangeIsRefusedWhenSetNamingTheOptionAndLeavesItUnset() {
        ConversationEngine.Builder builder = ConversationEngine.builder();
        assertThatThrownBy(() -> builder.defaultContextSize(0)).hasMessageContaining("defaultContextSize");
        assertThatThrownBy(() -> builder.steeringCacheTtl(Duration.ofSeconds(-1))).hasMessageContaining("steeringCacheTtl");
        // Refused values are not kept: the option can still be set once.
        builder.defaultContextSize(10).steeringCacheTtl(Duration.ZERO);
    }

    @Test
    void timeoutsAreCheckedTogether() {
        assertThatThrownBy(() -> Timeouts.builder().claimLease(Duration.ofSeconds(30)).replayWait(Duration.ofSeconds(20)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("replayWait").hasMessageContaining("claimLease");
        assertThatThrownBy(() -> Timeouts.builder().claimLease(Duration.ofMillis(100)).build())
                .hasMessageContaining("claimLease");
        assertThatThrownBy(() -> Timeouts.builder().streamLease(Duration.ofMillis(1)).build())
                .hasMessageContaining("streamLease");
        assertThatThrownBy(() -> Timeouts.builder().streamIdle(Duration.ZERO).build())
                .hasMessageContaining("streamIdle");
        assertThatThrownBy(() -> Timeouts.builder().replayWait(Duration.ofSeconds(-1)))
                .hasMessageContaining("replayWait");
        Timeouts.Builder once = Timeouts.builder().streamIdle(Duration.ofSeconds(5));
        assertThatThrownBy(() -> once.streamIdle(Duration.ofSeconds(6)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("streamIdle was already set");

        assertThat(Timeouts.builder().build()).isEqualTo(Timeouts.defaults());
        assertThat(Timeouts.defaults()).isEqualTo(new Timeouts(Duration.ofSeconds(30), Duration.ofSeconds(10),
                Duration.ofSeconds(60), Duration.ofMinutes(2)));
    }

    @Test
    void theDefaultPipelinesStagesUseTheEnginesTimeouts() throws Exception {
        // A replay wait of zero: a send of an id in progress elsewhere is refused at once, not after 60 s.
        InMemoryConversationStore store = new InMemoryConversationStore();
        try (ConversationEngine engine = EngineFixture.builder(ScriptedModel.echo(), store)
                .timeouts(Timeouts.builder().claimLease(Duration.ofMillis(300)).replayWait(Duration.ofMillis(300)).build())
                .build()) {
            var c = engine.as(EngineFixture.member("alice"))
                    .create(dev.parley.api.NewConversation.inWorkspace(EngineFixture.WS).build());
            dev.parley.api.Prompt prompt = dev.parley.api.Prompt.text("hello").id("m-1").build();
            // Another engine's live claim, renewed for a minute.
            store.claimTurn(c.id(), "m-1", IdempotencyStage.fingerprint(prompt), java.time.Instant.now(),
                    Duration.ofMinutes(1));
            long started = System.nanoTime();
            assertThatThrownBy(() -> c.send(prompt)).isInstanceOf(dev.parley.api.ConversationLockedException.class);
            // Refused after about the 300 ms replay wait; the default (60 s) would have outlasted this test's budget.
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(30));
        }
    }
}
