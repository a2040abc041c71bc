package dev.parley.spring.boot;

import dev.parley.api.ConversationEngine;
import dev.parley.api.PromptPipeline;
import dev.parley.api.RateLimits;
import dev.parley.api.Timeouts;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.AlertSink;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.micrometer.ParleyMetrics;
import dev.parley.opentelemetry.ParleyTracing;
import dev.parley.store.jdbc.JdbcConversationStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.OpenTelemetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Auto-configures a {@link ConversationEngine} from {@code parley.*} properties ({@link ParleyProperties}) and the
 * application's beans. Each piece is a bean the application can replace by defining its own:
 *
 * <ul>
 *   <li>{@link ParleyModels}: every LangChain4j {@code ChatModel} bean (with its {@code StreamingChatModel}) and
 *       every Parley {@code ModelProvider} bean, each under its bean name, and the default model. With no model
 *       the application fails to start with a {@link ParleyConfigurationException} saying so, rather than
 *       starting an engine no turn could use.</li>
 *   <li>{@link PromptPipeline}: the default pipeline with the {@link PromptStage} beans inserted, in bean order,
 *       at {@code parley.pipeline.stage-position}, then edited by the {@link ParleyPipelineCustomizer} beans.</li>
 *   <li>{@link PolicySet}: every {@link PolicyRule} bean, and every {@link Policy} bean as a rule with the action
 *       of {@code parley.policies.actions.<policy id>} or {@code parley.policies.default-action}; none when
 *       {@code parley.policies.enabled=false}.</li>
 *   <li>{@link ParleyMetrics} (engine-micrometer on the class path and a {@code MeterRegistry} bean) and
 *       {@link ParleyTracing} (engine-opentelemetry on the class path and an {@code OpenTelemetry} bean); these,
 *       any other {@link EngineListener.Factory} bean and every {@link EngineListener} bean are told of each
 *       turn.</li>
 *   <li>{@link ConversationEngine} itself, closed when the application context closes.</li>
 * </ul>
 *
 * <p>The store is the application's {@link ConversationStore} bean when it has one; otherwise
 * {@code parley.store.type} decides: by default the application's {@code DataSource} when it has exactly one
 * (Parley's tables are migrated into it, with their own Flyway history table), else an embedded H2 file at
 * {@code parley.store.h2-file}. The engine closes the store when it closes (a {@code DataSource} stays the
 * application's). {@link ScopeDirectory}, {@link SteeringResolver}, {@link AlertSink}, {@link EventSink} and
 * {@link RateLimits} beans are passed to the engine, and {@link ParleyEngineCustomizer} beans may change the builder
 * last.
 */
@AutoConfiguration(afterName = {
        // So that a DataSource, MeterRegistry, ObservationRegistry and OpenTelemetry bean of Spring Boot's own
        // auto-configuration is defined before the conditions below look for it (Spring Boot 4, then 3 names).
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.observation.autoconfigure.ObservationAutoConfiguration",
        "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration",
        "org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration",
        "org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.actuate.autoconfigure.observation.ObservationAutoConfiguration",
        "org.springframework.boot.actuate.autoconfigure.opentelemetry.OpenTelemetryAutoConfiguration"})
@ConditionalOnClass(ConversationEngine.class)
@EnableConfigurationProperties(ParleyProperties.class)
public class ParleyAutoConfiguration {
    private static final Logger log = LoggerFactory.getLogger(ParleyAutoConfiguration.class);

    /** Made by Spring Boot, from the auto-configuration imports. */
    public ParleyAutoConfiguration() {
    }

    /**
     * The engine and the pieces it is built from, unless the application defines its own engine: then no model
     * is needed and nothing here is made.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnMissingBean(ConversationEngine.class)
    static class EngineConfiguration {
        /** The models of the application's model beans, and the default. */
        @Bean
        @ConditionalOnMissingBean
        public ParleyModels parleyModels(ListableBeanFactory beans, ParleyProperties properties) {
            return ParleyModels.from(beans, properties);
        }

        /** The default pipeline with the application's {@link PromptStage} beans at the configured position. */
        @Bean
        @ConditionalOnMissingBean
        public PromptPipeline parleyPromptPipeline(ObjectProvider<PromptStage> stages,
                                                   ObjectProvider<ParleyPipelineCustomizer> customizers,
                                                   ParleyProperties properties) {
            PromptPipeline pipeline = PromptPipeline.defaults();
            for (PromptStage stage : stages.orderedStream().toList()) {
                pipeline = pipeline.insert(properties.getPipeline().getStagePosition(), stage);
            }
            for (ParleyPipelineCustomizer customizer : customizers.orderedStream().toList()) {
                pipeline = customizer.customize(pipeline);
            }
            return pipeline;
        }

        /** The rules of the application's {@link PolicyRule} and {@link Policy} beans. */
        @Bean
        @ConditionalOnMissingBean
        public PolicySet parleyPolicySet(ObjectProvider<PolicyRule> rules, ObjectProvider<Policy> policies,
                                         ParleyProperties properties) {
            ParleyProperties.Policies settings = properties.getPolicies();
            if (!settings.isEnabled()) {
                return PolicySet.none();
            }
            List<PolicyRule> all = new ArrayList<>(rules.orderedStream().toList());
            for (Policy policy : policies.orderedStream().toList()) {
                PolicyAction action = settings.getActions().getOrDefault(policy.id(), settings.getDefaultAction());
                all.add(PolicyRule.of(policy, action).build());
            }
            return all.isEmpty() ? PolicySet.none() : PolicySet.of(all);
        }

        /** The engine; Spring closes it, and with it its store, when the application context closes. */
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        public ConversationEngine parleyConversationEngine(
                ParleyProperties properties, ParleyModels models, PromptPipeline pipeline, PolicySet policies,
                ObjectProvider<ConversationStore> stores, ObjectProvider<DataSource> dataSources,
                ObjectProvider<EngineListener.Factory> listenerFactories, ObjectProvider<EngineListener> listeners,
                ObjectProvider<ScopeDirectory> scopeDirectory, ObjectProvider<SteeringResolver> steeringResolver,
                ObjectProvider<AlertSink> alertSink, ObjectProvider<EventSink> eventSink,
                ObjectProvider<RateLimits> rateLimits, ObjectProvider<ParleyEngineCustomizer> customizers) {
            ConversationEngine.Builder builder = ConversationEngine.builder();
            models.models().forEach(builder::model);
            builder.defaultModel(models.defaultModel());
            builder.pipeline(pipeline);
            if (!policies.isEmpty()) {
                builder.policies(policies);
            }
            if (properties.getContextSize() != null) {
                builder.defaultContextSize(properties.getContextSize());
            }
            if (properties.getDefaultContextWindow() != null) {
                builder.defaultContextWindow(properties.getDefaultContextWindow());
            }
            if (properties.getTimeouts().anySet()) {
                builder.timeouts(timeouts(properties.getTimeouts()));
            }
            for (Map.Entry<String, ParleyProperties.Price> price : properties.getPrices().entrySet()) {
                builder.price(price.getKey(),
                        ModelPrice.perThousand(price.getValue().getInput(), price.getValue().getOutput()));
            }
            List<EngineListener.Factory> factories = new ArrayList<>(listenerFactories.orderedStream().toList());
            listeners.orderedStream().map(EngineListener::factory).forEach(factories::add);
            if (!factories.isEmpty()) {
                builder.eventListenerFactory(
                        EngineListener.factories(factories.toArray(EngineListener.Factory[]::new)));
            }
            scopeDirectory.ifUnique(builder::scopeDirectory);
            steeringResolver.ifUnique(builder::steeringResolver);
            alertSink.ifUnique(builder::alertSink);
            eventSink.ifUnique(builder::eventSink);
            rateLimits.ifUnique(builder::rateLimits);
            customizers.orderedStream().forEach(c -> c.customize(builder));
            // The store last: a builder that refuses an option closes the store it was given.
            builder.store(store(properties.getStore(), stores, dataSources));
            ConversationEngine engine;
            try {
                engine = builder.build();
            } catch (IllegalStateException | IllegalArgumentException e) {
                throw new ParleyConfigurationException(e.getMessage(), "Check the parley.* properties and the beans "
                        + "given to the engine.", e);
            }
            log.info("Parley engine started with models {} (default {})", models.models().keySet(),
                    models.defaultModel());
            return engine;
        }

        private static Timeouts timeouts(ParleyProperties.Timeouts t) {
            Timeouts.Builder b = Timeouts.builder();
            if (t.getStreamLease() != null) {
                b.streamLease(t.getStreamLease());
            }
            if (t.getClaimLease() != null) {
                b.claimLease(t.getClaimLease());
            }
            if (t.getReplayWait() != null) {
                b.replayWait(t.getReplayWait());
            }
            if (t.getStreamIdle() != null) {
                b.streamIdle(t.getStreamIdle());
            }
            try {
                return b.build();
            } catch (IllegalArgumentException e) {
                throw new ParleyConfigurationException("parley.timeouts: " + e.getMessage(),
                        "Change the parley.timeouts.* properties so that they agree.", e);
            }
        }

        private static ConversationStore store(ParleyProperties.Store settings,
                                               ObjectProvider<ConversationStore> stores,
                                               ObjectProvider<DataSource> dataSources) {
            ConversationStore own = stores.getIfUnique();
            if (own != null) {
                log.info("Parley keeps conversations in the application's ConversationStore bean");
                return own;
            }
            switch (settings.getType()) {
                case MEMORY:
                    log.info("Parley keeps conversations in memory");
                    return new InMemoryConversationStore();
                case DATA_SOURCE: {
                    DataSource dataSource = dataSources.getIfUnique();
                    if (dataSource == null) {
                        throw new ParleyConfigurationException("parley.store.type is data-source, but the application "
                                + "has no single DataSource bean", "Define one DataSource bean (or mark one @Primary), "
                                + "or choose another parley.store.type.");
                    }
                    log.info("Parley keeps conversations in the application's DataSource");
                    return JdbcConversationStore.of(dataSource);
                }
                case H2_FILE:
                    return h2File(settings);
                case AUTO:
                default: {
                    DataSource dataSource = dataSources.getIfUnique();
                    if (dataSource != null) {
                        log.info("Parley keeps conversations in the application's DataSource");
                        return JdbcConversationStore.of(dataSource);
                    }
                    return h2File(settings);
                }
            }
        }

        private static ConversationStore h2File(ParleyProperties.Store settings) {
            log.info("Parley keeps conversations in the H2 file {}", settings.getH2File().toAbsolutePath());
            return JdbcConversationStore.h2File(settings.getH2File());
        }
    }

    /** Parley's meters on the application's {@code MeterRegistry}: engine-micrometer, when it is on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ParleyMetrics.class, MeterRegistry.class})
    @ConditionalOnBooleanProperty(name = "parley.metrics.enabled", matchIfMissing = true)
    static class MetricsConfiguration {
        /** Records each turn on the application's registry (and its observation registry when enabled). */
        @Bean
        @ConditionalOnBean(MeterRegistry.class)
        @ConditionalOnMissingBean
        ParleyMetrics parleyMetrics(MeterRegistry registry, ObjectProvider<ObservationRegistry> observations,
                                    ParleyProperties properties) {
            ParleyMetrics.Builder builder = ParleyMetrics.builder(registry);
            if (properties.getMetrics().isObservations()) {
                observations.ifUnique(builder::observationRegistry);
            }
            if (properties.getMetrics().isTagWorkspace()) {
                builder.tagWorkspace();
            }
            return builder.build();
        }
    }

    /** Parley's spans on the application's {@code OpenTelemetry}: engine-opentelemetry, when on the class path. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({ParleyTracing.class, OpenTelemetry.class})
    @ConditionalOnBooleanProperty(name = "parley.tracing.enabled", matchIfMissing = true)
    static class TracingConfiguration {
        /** Makes a span of each turn, stage and model call. */
        @Bean
        @ConditionalOnBean(OpenTelemetry.class)
        @ConditionalOnMissingBean
        ParleyTracing parleyTracing(OpenTelemetry openTelemetry, ParleyProperties properties) {
            ParleyTracing.Builder builder = ParleyTracing.builder(openTelemetry);
            if (properties.getTracing().isCaptureContent()) {
                builder.captureContent();
            }
            return builder.build();
        }

        /** With content capture on, the stage that puts a turn's prompt and reply on its span, before commit. */
        @Bean
        @ConditionalOnBean(ParleyTracing.class)
        @ConditionalOnBooleanProperty(name = "parley.tracing.capture-content")
        ParleyPipelineCustomizer parleyTracingContentStage(ParleyTracing tracing) {
            return pipeline -> pipeline.insert(PromptPipeline.Position.BEFORE_COMMIT, tracing.contentStage());
        }
    }
}
