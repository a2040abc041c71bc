package dev.parley.spring.boot;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.spi.ModelProvider;
import dev.parley.micrometer.ParleyMetrics;
import dev.parley.opentelemetry.ParleyTracing;
import dev.parley.testing.ScriptedModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.OpenTelemetry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import java.math.BigDecimal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the starter binds beside the engine: the Micrometer module only with a MeterRegistry bean, the observation
 * registry only when opted in, the workspace tag only when asked for, the OpenTelemetry module only with an
 * OpenTelemetry bean; and credit prices from properties, without which a credit account refuses the model's turns.
 */
class ParleyObservabilityAutoConfigurationTest {
    private static final Caller ALICE = Caller.user("alice", "acme").member("support").build();

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ParleyAutoConfiguration.class))
            .withPropertyValues("parley.store.type=memory");

    private static Reply turn(ConversationEngine engine, String text) {
        Conversation c = engine.as(ALICE).create(NewConversation.inWorkspace("support").build());
        return c.send(Prompt.text(text).build());
    }

    /** Records the name of each observation as it stops. Thread safe. */
    static final class Names implements ObservationHandler<Observation.Context> {
        final List<String> stopped = new CopyOnWriteArrayList<>();

        @Override
        public boolean supportsContext(Observation.Context context) {
            return true;
        }

        @Override
        public void onStop(Observation.Context context) {
            stopped.add(context.getName());
        }
    }

    private static ObservationRegistry observations(Names names) {
        ObservationRegistry registry = ObservationRegistry.create();
        registry.observationConfig().observationHandler(names);
        return registry;
    }

    @Test
    void withoutAMeterRegistryBeanNoMetricsAreBound() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .run(context -> {
                    assertThat(context).hasNotFailed().doesNotHaveBean(ParleyMetrics.class);
                    assertThat(turn(context.getBean(ConversationEngine.class), "Hello").text())
                            .isEqualTo("echo: Hello");
                });
    }

    @Test
    void theMetricsBeanIsAMeterBinderOfTheApplicationsRegistry() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, () -> registry)
                .run(context -> {
                    MeterBinder binder = context.getBean(MeterBinder.class);
                    assertThat(binder).isSameAs(context.getBean(ParleyMetrics.class));
                    // As a host binds its binders: the registry it was built with counts each turn once.
                    binder.bindTo(registry);
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(registry.get(ParleyMetrics.TURNS).counter().count()).isEqualTo(1);
                });
    }

    @Test
    void aUserParleyMetricsBeanReplacesTheDefault() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SimpleMeterRegistry own = new SimpleMeterRegistry();
        ParleyMetrics mine = ParleyMetrics.builder(own).build();
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, () -> registry)
                .withBean(ParleyMetrics.class, () -> mine)
                .run(context -> {
                    assertThat(context).hasSingleBean(ParleyMetrics.class);
                    assertThat(context.getBean(ParleyMetrics.class)).isSameAs(mine);
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(own.get(ParleyMetrics.TURNS).counter().count()).isEqualTo(1);
                    assertThat(registry.find(ParleyMetrics.TURNS).counters()).isEmpty();
                });
    }

    @Test
    void theObservationRegistryIsUsedOnlyWhenOptedIn() {
        Names names = new Names();
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withBean(ObservationRegistry.class, () -> observations(names))
                .run(context -> {
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(names.stopped).isEmpty();
                    // Timed on the meter registry instead.
                    assertThat(context.getBean(MeterRegistry.class).get(ParleyMetrics.TURN).timer().count())
                            .isEqualTo(1);
                });
    }

    @Test
    void withTheObservationsOptInTurnsStagesAndModelCallsAreObserved() {
        Names names = new Names();
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withBean(ObservationRegistry.class, () -> observations(names))
                .withPropertyValues("parley.metrics.observations=true")
                .run(context -> {
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(names.stopped).contains(ParleyMetrics.TURN, ParleyMetrics.STAGE,
                            ParleyMetrics.MODEL_CALL);
                    assertThat(names.stopped.stream().filter(ParleyMetrics.TURN::equals)).hasSize(1);
                    // The registry's handlers make the timers now; this one has none, so no turn timer.
                    MeterRegistry meters = context.getBean(MeterRegistry.class);
                    assertThat(meters.find(ParleyMetrics.TURN).timers()).isEmpty();
                    assertThat(meters.get(ParleyMetrics.TURNS).counter().count()).isEqualTo(1);
                });
    }

    @Test
    void theWorkspaceTagIsOnlyThereWhenAskedFor() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(context.getBean(MeterRegistry.class).get(ParleyMetrics.TURNS).counter().getId()
                            .getTag("workspace")).isNull();
                });
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("parley.metrics.tag-workspace=true")
                .run(context -> {
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(context.getBean(MeterRegistry.class).get(ParleyMetrics.TURNS).counter().getId()
                            .getTag("workspace")).isEqualTo("support");
                });
    }

    @Test
    void withoutEngineOpenTelemetryOnTheClassPathNoTracingIsBound() {
        runner.withClassLoader(new FilteredClassLoader(ParleyTracing.class))
                .withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(OpenTelemetry.class, OpenTelemetry::noop)
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ParleyTracing.class));
    }

    @Test
    void tracingCanBeSwitchedOff() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(OpenTelemetry.class, OpenTelemetry::noop)
                .withPropertyValues("parley.tracing.enabled=false")
                .run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(ParleyTracing.class));
    }

    @Test
    void pricesFromPropertiesChargeTurns() {
        ScriptedModel model = ScriptedModel.builder().replies("priced").usage(1000, 500).build();
        runner.withBean("scripted", ModelProvider.class, () -> model)
                .withPropertyValues("parley.prices.scripted.input=0.15", "parley.prices.scripted.output=0.60")
                .run(context -> {
                    ConversationEngine engine = context.getBean(ConversationEngine.class);
                    assertThat(engine.config().prices())
                            .containsEntry("scripted", ModelPrice.perThousand("0.15", "0.60"));
                    CreditAccount account = engine.credits().open(AccountOwner.organization("acme"));
                    engine.credits().topUp(account.id(), new BigDecimal("10"), "test funds");
                    Reply reply = turn(engine, "Hello");
                    assertThat(reply.credits().metered()).isTrue();
                    // 1000 input tokens at 0.15 and 500 output tokens at 0.60 per thousand.
                    assertThat(reply.credits().used()).isEqualByComparingTo("0.45");
                    assertThat(engine.credits().account(account.id()).orElseThrow().balance())
                            .isEqualByComparingTo("9.55");
                });
    }

    @Test
    void withoutAPriceACreditAccountRefusesTheModelsTurns() {
        ScriptedModel model = ScriptedModel.builder().replies("unpriced").usage(1000, 500).build();
        runner.withBean("scripted", ModelProvider.class, () -> model).run(context -> {
            ConversationEngine engine = context.getBean(ConversationEngine.class);
            assertThat(engine.config().prices()).isEmpty();
            CreditAccount account = engine.credits().open(AccountOwner.organization("acme"));
            engine.credits().topUp(account.id(), new BigDecimal("10"), "test funds");
            assertThatThrownBy(() -> turn(engine, "Hello")).isInstanceOf(InvalidRequestException.class)
                    .hasMessageContaining("no credit price");
            assertThat(engine.credits().account(account.id()).orElseThrow().balance()).isEqualByComparingTo("10");
        });
    }
}
