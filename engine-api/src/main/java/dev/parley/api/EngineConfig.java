package dev.parley.api;

import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

/**
 * A read-only view of the settings an engine was built with; {@link ConversationEngine.Builder} hands a copy to
 * the engine it builds. Immutable and thread safe.
 *
 * @param store the store, or null for the in-memory default
 * @param models every registered model with its scope
 * @param defaultModel the model of turns that name none
 * @param pipeline the stages every turn runs through
 * @param clock the clock of every timestamp
 * @param ids the id source, or null for time-ordered UUIDs (version 7)
 * @param tokenCounter the counter of models without their own, or null for the default estimator
 * @param steeringResolver resolves brand voices and target audiences
 * @param steeringCacheTtl how long resolved steering texts are reused; zero for never
 * @param scopeDirectory knows repositories
 * @param eventSink receives audit events
 * @param defaultContextSize history token budget when a prompt gives none
 * @param timeouts the engine's leases and waits
 * @param defaultContextWindow the context window, in tokens, of models that declare none
 * @param streamExecutor runs streams, or null for the engine's own bounded pool
 * @param listenerFactory gives each turn its engine listener
 * @param policies the policies turns are checked with, each applied where its scope says
 * @param alertSink receives the violations of ALERT rules once their turn is stored
 * @param policyFactories the policy factories the host gave, beside those on the class path
 * @param prices the credit prices the host set in code, by model name: stored at start for each model the store
 *               has no price for
 * @param rateLimits the requests and tokens per minute each caller, workspace and organization may use
 * @param compaction how conversations are summarized once their history no longer fits; {@code Compaction.OFF}
 *                   for never
 */
public record EngineConfig(
        @Nullable ConversationStore store,
        List<ModelRegistration> models,
        String defaultModel,
        PromptPipeline pipeline,
        Clock clock,
        @Nullable Supplier<String> ids,
        @Nullable TokenCounter tokenCounter,
        SteeringResolver steeringResolver,
        Duration steeringCacheTtl,
        ScopeDirectory scopeDirectory,
        EventSink eventSink,
        int defaultContextSize,
        Timeouts timeouts,
        int defaultContextWindow,
        @Nullable Executor streamExecutor,
        dev.parley.api.spi.EngineListener.Factory listenerFactory,
        dev.parley.api.policy.PolicySet policies,
        dev.parley.api.spi.AlertSink alertSink,
        List<dev.parley.api.spi.PolicyFactory> policyFactories,
        java.util.Map<String, dev.parley.api.credits.ModelPrice> prices,
        RateLimits rateLimits,
        dev.parley.api.compaction.Compaction compaction) {

    /** A configuration without compaction. */
    public EngineConfig(@Nullable ConversationStore store, List<ModelRegistration> models, String defaultModel,
                        PromptPipeline pipeline, Clock clock, @Nullable Supplier<String> ids,
                        @Nullable TokenCounter tokenCounter, SteeringResolver steeringResolver,
                        Duration steeringCacheTtl, ScopeDirectory scopeDirectory, EventSink eventSink,
                        int defaultContextSize, Timeouts timeouts, int defaultContextWindow,
                        @Nullable Executor streamExecutor, dev.parley.api.spi.EngineListener.Factory listenerFactory,
                        dev.parley.api.policy.PolicySet policies, dev.parley.api.spi.AlertSink alertSink,
                        List<dev.parley.api.spi.PolicyFactory> policyFactories,
                        java.util.Map<String, dev.parley.api.credits.ModelPrice> prices, RateLimits rateLimits) {
        this(store, models, defaultModel, pipeline, clock, ids, tokenCounter, steeringResolver, steeringCacheTtl,
                scopeDirectory, eventSink, defaultContextSize, timeouts, defaultContextWindow, streamExecutor,
                listenerFactory, policies, alertSink, policyFactories, prices, rateLimits,
                dev.parley.api.compaction.Compaction.OFF);
    }

    /** A configuration with no credit prices set in code and no rate limits. */
    public EngineConfig(@Nullable ConversationStore store, List<ModelRegistration> models, String defaultModel,
                        PromptPipeline pipeline, Clock clock, @Nullable Supplier<String> ids,
                        @Nullable TokenCounter tokenCounter, SteeringResolver steeringResolver,
                        Duration steeringCacheTtl, ScopeDirectory scopeDirectory, EventSink eventSink,
                        int defaultContextSize, Timeouts timeouts, int defaultContextWindow,
                        @Nullable Executor streamExecutor, dev.parley.api.spi.EngineListener.Factory listenerFactory,
                        dev.parley.api.policy.PolicySet policies, dev.parley.api.spi.AlertSink alertSink,
                        List<dev.parley.api.spi.PolicyFactory> policyFactories) {
        this(store, models, defaultModel, pipeline, clock, ids, tokenCounter, steeringResolver, steeringCacheTtl,
                scopeDirectory, eventSink, defaultContextSize, timeouts, defaultContextWindow, streamExecutor,
                listenerFactory, policies, alertSink, policyFactories, java.util.Map.of(), RateLimits.NONE);
    }

    public EngineConfig {
        Objects.requireNonNull(compaction, "compaction");
        prices = java.util.Map.copyOf(prices);
        Objects.requireNonNull(rateLimits, "rateLimits");
        Objects.requireNonNull(policies, "policies");
        Objects.requireNonNull(alertSink, "alertSink");
        policyFactories = List.copyOf(policyFactories);
        Objects.requireNonNull(listenerFactory, "listenerFactory");
        models = List.copyOf(models);
        Objects.requireNonNull(defaultModel, "defaultModel");
        Objects.requireNonNull(pipeline, "pipeline");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(steeringResolver, "steeringResolver");
        Objects.requireNonNull(steeringCacheTtl, "steeringCacheTtl");
        Objects.requireNonNull(scopeDirectory, "scopeDirectory");
        Objects.requireNonNull(eventSink, "eventSink");
        Objects.requireNonNull(timeouts, "timeouts");
        if (defaultContextWindow < 1) {
            throw new IllegalArgumentException("default context window must be positive, was " + defaultContextWindow);
        }
    }

    public Optional<ConversationStore> configuredStore() {
        return Optional.ofNullable(store);
    }

    /** The executor the host gave for streams; empty when the engine runs them on its own pool. */
    public Optional<Executor> configuredStreamExecutor() {
        return Optional.ofNullable(streamExecutor);
    }

    /**
     * One model registered under a name in a scope.
     *
     * @param scope where it is visible
     * @param name the name turns ask for
     * @param provider the model
     */
    public record ModelRegistration(ModelScope scope, String name, ModelProvider provider) {
        public ModelRegistration {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(provider, "provider");
        }
    }
}
