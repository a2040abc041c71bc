package dev.parley.api;

import dev.parley.api.internal.EngineProvider;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Parley's front door: holds the store, the models and the pipeline, and hands out {@link Conversations} for
 * each {@link Caller}. Build one per application and share it; it is thread safe. Close it at shutdown to close
 * the store.
 *
 * <pre>{@code
 * ConversationEngine engine = ConversationEngine.builder()
 *     .model("gpt-4o-mini", LangChain4jModel.of(chatModel))
 *     .build();
 * Conversation c = engine.as(caller).create(NewConversation.inWorkspace("ws-1").build());
 * Reply r = c.send(Prompt.text("Hello").build());
 * }</pre>
 */
public interface ConversationEngine extends AutoCloseable {

    /** A new builder. The engine implementation (engine-core) is found on the class path when it builds. */
    static Builder builder() {
        return new Builder();
    }

    /** The conversations {@code caller} may reach; every call on them is made on the caller's behalf. */
    Conversations as(Caller caller);

    /** The settings this engine was built with. */
    EngineConfig config();

    /**
     * The run-time policy rules of the engine's store.
     *
     * @throws IllegalStateException when the store keeps none (it is no {@link dev.parley.api.spi.PolicyRegistry})
     */
    Policies policies();

    /**
     * The credit prices, accounts and ledgers of the engine's store.
     *
     * @throws IllegalStateException when the store keeps none (it is no {@link dev.parley.api.spi.CreditLedger})
     */
    CreditAccounts credits();

    /**
     * Retention purges and erasure on the engine's store.
     *
     * @throws UnsupportedOperationException from its methods when the store does not purge (it is no
     *                                       {@link dev.parley.api.spi.ConversationPurges})
     */
    Maintenance maintenance();

    /**
     * Cancels running streams (they keep what they have), waits for them, then closes the store, the configured
     * one included. A stream that has not ended 5 seconds after its cancel is interrupted and given 5 more seconds
     * to store its partial reply (CANCELLED) and release its lock; a stream still running after that has its lock
     * released and its listener told of the failure, before the store closes. An executor given with
     * {@link Builder#streamExecutor} is left running. Give each engine its own store instance. Idempotent.
     * Afterwards {@link #as} and every method of the {@link Conversations} and {@link Conversation} handles it
     * gave out fail with {@link IllegalStateException} ("the engine is closed").
     */
    @Override
    void close();

    /**
     * Configures and builds a {@link ConversationEngine}. Each option is checked the moment it is set, and may be
     * set once: a second set throws {@link IllegalStateException} naming the option (models are registered once
     * per name and scope). Not thread safe.
     */
    final class Builder {
        /** History token budget used when a prompt gives none. */
        public static final int DEFAULT_CONTEXT_SIZE = 16_000;
        /** Context window, in tokens, of models that declare none: that of current OpenAI chat models. */
        public static final int DEFAULT_CONTEXT_WINDOW = 128_000;
        /** How many threads the engine's own stream pool has at most. */
        public static final int DEFAULT_STREAM_THREADS = 64;
        /** How long resolved steering texts are reused by default. */
        public static final Duration DEFAULT_STEERING_CACHE_TTL = Duration.ofSeconds(60);

        private ConversationStore store;
        private final List<EngineConfig.ModelRegistration> models = new ArrayList<>();
        private final Set<String> registrationKeys = new HashSet<>();
        private String defaultModel;
        private PromptPipeline pipeline;
        private Clock clock;
        private Supplier<String> ids;
        private TokenCounter tokenCounter;
        private SteeringResolver steeringResolver;
        private ScopeDirectory scopeDirectory;
        private EventSink eventSink;
        private Integer defaultContextSize;
        private Duration steeringCacheTtl;
        private Timeouts timeouts;
        private Integer defaultContextWindow;
        private Executor streamExecutor;
        private EngineListener.Factory listenerFactory;
        private dev.parley.api.policy.PolicySet policies;
        private dev.parley.api.spi.AlertSink alertSink;
        private final List<dev.parley.api.spi.PolicyFactory> policyFactories = new ArrayList<>();
        private final java.util.Map<String, dev.parley.api.credits.ModelPrice> prices = new java.util.LinkedHashMap<>();
        private RateLimits rateLimits;
        private dev.parley.api.compaction.Compaction compaction;

        /** The value of an option set for the first time; refuses a second set, naming the option. */
        private static <T> T once(String option, T current, T value) {
            Objects.requireNonNull(value, option);
            if (current != null) {
                throw new IllegalStateException(option + " was already set to " + current);
            }
            return value;
        }

        Builder() {
        }

        /** The store; without one the engine keeps conversations in memory. The engine closes it on close. */
        public Builder store(ConversationStore store) {
            this.store = once("store", this.store, store);
            return this;
        }

        /** Registers a model under a name for every conversation. */
        public Builder model(String name, ModelProvider provider) {
            return model(ModelScope.global(), name, provider);
        }

        /** Registers a model under a name for the conversations of one scope. */
        public Builder model(ModelScope scope, String name, ModelProvider provider) {
            Objects.requireNonNull(scope, "scope");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(provider, "provider");
            try {
                dev.parley.api.internal.Checks.label("name", name, Limits.MAX_TAG_LENGTH);
            } catch (InvalidRequestException e) {
                throw new IllegalArgumentException("model name " + e.getMessage(), e);
            }
            if (!registrationKeys.add(scope.level() + "\u0000" + scope.organizationId() + "\u0000" + scope.id()
                    + "\u0000" + name)) {
                throw new IllegalStateException("model " + name + " was already registered for " + scope);
            }
            models.add(new EngineConfig.ModelRegistration(scope, name, provider));
            return this;
        }

        /** The model of turns that name none; defaults to the first globally registered model. */
        public Builder defaultModel(String name) {
            this.defaultModel = once("defaultModel", this.defaultModel, name);
            return this;
        }

        /** The pipeline every turn runs through; defaults to {@link PromptPipeline#defaults()}. */
        public Builder pipeline(PromptPipeline pipeline) {
            this.pipeline = once("pipeline", this.pipeline, pipeline);
            return this;
        }

        /**
         * The clock for every timestamp, and for leases on a store that measures them by the times it is given
         * (the in-memory store; the JDBC store uses the database's clock), where a clock that does not follow real
         * time makes leases end early or late; defaults to the UTC system clock.
         */
        public Builder clock(Clock clock) {
            this.clock = once("clock", this.clock, clock);
            return this;
        }

        /**
         * The source of conversation and message ids; defaults to time-ordered UUIDs (version 7), which a
         * database indexes at the end of its index rather than on a random page. Must be thread safe.
         */
        public Builder ids(Supplier<String> ids) {
            this.ids = once("ids", this.ids, ids);
            return this;
        }

        /** Counts tokens of every model that brings no counter of its own; defaults to LangChain4j's estimator. */
        public Builder tokenCounter(TokenCounter tokenCounter) {
            this.tokenCounter = once("tokenCounter", this.tokenCounter, tokenCounter);
            return this;
        }

        /** Resolves brand voice and target audience ids to text. */
        public Builder steeringResolver(SteeringResolver resolver) {
            this.steeringResolver = once("steeringResolver", this.steeringResolver, resolver);
            return this;
        }

        /**
         * How long a resolved brand voice or target audience text is reused before the resolver is asked again;
         * 60 seconds by default, {@link Duration#ZERO} asks on every turn. A conversation's ids are read on every
         * turn, so a PATCH that changes them takes effect on the next turn; only a change of the text behind an
         * id, which the host makes in its own data, waits up to this long.
         */
        public Builder steeringCacheTtl(Duration ttl) {
            Objects.requireNonNull(ttl, "steeringCacheTtl");
            if (ttl.isNegative()) {
                throw new IllegalArgumentException("steeringCacheTtl must not be negative, was " + ttl);
            }
            this.steeringCacheTtl = once("steeringCacheTtl", this.steeringCacheTtl, ttl);
            return this;
        }

        /**
         * The engine's leases and waits (stream lease, claim lease, replay wait, stream idle timeout), checked
         * together; {@link Timeouts#defaults()} by default. The default pipeline's stages read them from here.
         */
        public Builder timeouts(Timeouts timeouts) {
            this.timeouts = once("timeouts", this.timeouts, timeouts);
            return this;
        }

        /**
         * Runs the engine's streams: each stream occupies one task of it for its whole turn (the provider call
         * included). The engine never shuts it down; the host does, after closing the engine. Without it the
         * engine runs streams on its own pool of at most {@value #DEFAULT_STREAM_THREADS} daemon threads named
         * {@code parley-stream-N}; streams beyond that wait, their locks kept, for a free thread.
         */
        public Builder streamExecutor(Executor executor) {
            this.streamExecutor = once("streamExecutor", this.streamExecutor, executor);
            return this;
        }

        /**
         * Tells {@code listener} of every turn's work (see {@link EngineListener} for the events and their order);
         * it is shared by all turns, so it must be thread safe. Set this or {@link #eventListenerFactory}, once.
         */
        public Builder eventListener(EngineListener listener) {
            return eventListenerFactory(EngineListener.factory(listener));
        }

        /** Gives each turn a listener of its own from {@code factory}; set this or {@link #eventListener}, once. */
        public Builder eventListenerFactory(EngineListener.Factory factory) {
            this.listenerFactory = once("eventListener", this.listenerFactory, factory);
            return this;
        }

        /** Knows repositories and their workspace and organization. */
        public Builder scopeDirectory(ScopeDirectory directory) {
            this.scopeDirectory = once("scopeDirectory", this.scopeDirectory, directory);
            return this;
        }

        /**
         * The policies every turn is checked with, each where its {@linkplain dev.parley.api.policy.PolicyRule#scope()
         * scope} says: before the model call, while the reply streams and after it (see
         * {@link dev.parley.api.policy}). None unless set.
         */
        public Builder policies(dev.parley.api.policy.PolicySet set) {
            this.policies = once("policies", this.policies, set);
            return this;
        }

        /**
         * Makes policies of one more kind for the rules of the store's policy registry, beside the factories found
         * on the class path; a kind may be given once.
         */
        public Builder policyFactory(dev.parley.api.spi.PolicyFactory factory) {
            Objects.requireNonNull(factory, "policyFactory");
            String kind = factory.kind();
            if (policyFactories.stream().anyMatch(f -> f.kind().equals(kind))) {
                throw new IllegalStateException("policyFactory of kind " + kind + " was already given");
            }
            policyFactories.add(factory);
            return this;
        }

        /**
         * The credit price of a registered model's turns. It is stored when the engine starts if the store has no
         * price for the model yet; a price changed at run time ({@link CreditAccounts#setPrice}) is kept, across
         * restarts too. Needs a store that keeps credits ({@link dev.parley.api.spi.CreditLedger}).
         *
         * @throws IllegalStateException when the model was given a price already
         */
        public Builder price(String model, dev.parley.api.credits.ModelPrice price) {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(price, "price");
            if (prices.putIfAbsent(model, price) != null) {
                throw new IllegalStateException("price of model " + model + " was already given");
            }
            return this;
        }

        /**
         * Requests and tokens per minute per caller, workspace and organization. A request over a limit is refused
         * with {@link RateLimitedException} before anything runs: by {@code send}, and by {@code stream} itself
         * rather than through the listener, so that a host can answer it at once (HTTP 429 with Retry-After). The
         * counters are shared by every engine on a store that keeps them
         * ({@link dev.parley.api.spi.RateLimitLedger}, as the in-memory and JDBC stores are), else kept per engine.
         */
        public Builder rateLimits(RateLimits limits) {
            this.rateLimits = once("rateLimits", this.rateLimits, limits);
            return this;
        }

        /**
         * Summarizing compaction ({@link dev.parley.api.compaction.Compaction}): once a conversation's left-out
         * history passes a threshold, a registered model summarizes it after the turn, off the turn's path, and later
         * turns send the summary in its place. Off unless set; the summarizer must be registered with
         * {@link #model}, and the store must keep summaries ({@link dev.parley.api.spi.SummaryLog}).
         */
        public Builder compaction(dev.parley.api.compaction.Compaction settings) {
            this.compaction = once("compaction", this.compaction, settings);
            return this;
        }

        /** Receives the violations of ALERT rules, each once, after its turn is stored. */
        public Builder alertSink(dev.parley.api.spi.AlertSink sink) {
            this.alertSink = once("alertSink", this.alertSink, sink);
            return this;
        }

        /** Receives audit events as they are stored. */
        public Builder eventSink(EventSink sink) {
            this.eventSink = once("eventSink", this.eventSink, sink);
            return this;
        }

        /** The history token budget of prompts that give none; defaults to {@value #DEFAULT_CONTEXT_SIZE}. */
        public Builder defaultContextSize(int tokens) {
            if (tokens < 1 || tokens > Limits.MAX_CONTEXT_SIZE) {
                throw new IllegalArgumentException("defaultContextSize must be between 1 and "
                        + Limits.MAX_CONTEXT_SIZE + ", was " + tokens);
            }
            this.defaultContextSize = once("defaultContextSize", this.defaultContextSize, tokens);
            return this;
        }

        /**
         * The context window, in tokens, assumed for models that declare none
         * ({@link ModelProvider#contextWindow()}); defaults to {@value #DEFAULT_CONTEXT_WINDOW}. A turn may ask for
         * a {@code contextSize} up to its model's window (a larger one is refused naming {@code contextSize}; the
         * engine's own default budget is cut to the window), and a prompt whose text, additional context and
         * steering do not fit the window is refused before the model is called.
         */
        public Builder defaultContextWindow(int tokens) {
            if (tokens < 1 || tokens > Limits.MAX_CONTEXT_SIZE) {
                throw new IllegalArgumentException("defaultContextWindow must be between 1 and "
                        + Limits.MAX_CONTEXT_SIZE + ", was " + tokens);
            }
            this.defaultContextWindow = once("defaultContextWindow", this.defaultContextWindow, tokens);
            return this;
        }

        /**
         * Builds the engine.
         *
         * @throws IllegalStateException when no model is registered, the default model is not registered
         *                               globally, or no engine implementation is on the class path; the store
         *                               given to {@link #store} is closed then, as the engine would have closed it
         */
        public ConversationEngine build() {
            try {
                return buildEngine();
            } catch (RuntimeException | Error e) {
                if (store != null) {
                    try {
                        store.close();
                    } catch (Exception closeFailure) {
                        e.addSuppressed(closeFailure);
                    }
                }
                throw e;
            }
        }

        private ConversationEngine buildEngine() {
            if (models.isEmpty()) {
                throw new IllegalStateException("no model registered: call model(name, provider)");
            }
            String defaultName = defaultModel;
            if (defaultName == null) {
                defaultName = models.stream().filter(m -> m.scope().level() == ModelScope.Level.GLOBAL)
                        .map(EngineConfig.ModelRegistration::name).findFirst()
                        .orElseThrow(() -> new IllegalStateException(
                                "no global model registered and no default model set"));
            } else {
                String wanted = defaultName;
                if (models.stream().noneMatch(m -> m.scope().level() == ModelScope.Level.GLOBAL && m.name().equals(wanted))) {
                    throw new IllegalStateException("default model " + wanted + " is not registered globally");
                }
            }
            if (compaction != null && compaction.enabled()) {
                String summarizer = compaction.model().orElseThrow();
                if (models.stream().noneMatch(m -> m.name().equals(summarizer))) {
                    throw new IllegalStateException("compaction's summarizer " + summarizer + " is not registered");
                }
            }
            for (String priced : prices.keySet()) {
                if (models.stream().noneMatch(m -> m.name().equals(priced))) {
                    throw new IllegalStateException("price given for model " + priced + ", which is not registered");
                }
            }
            EngineProvider provider = EngineProviders.find();
            EngineConfig config = new EngineConfig(store, models, defaultName,
                    pipeline == null ? provider.defaultPipeline() : pipeline,
                    clock == null ? Clock.systemUTC() : clock, ids, tokenCounter,
                    steeringResolver == null ? SteeringResolver.none() : steeringResolver,
                    steeringCacheTtl == null ? DEFAULT_STEERING_CACHE_TTL : steeringCacheTtl,
                    scopeDirectory == null ? ScopeDirectory.none() : scopeDirectory,
                    eventSink == null ? EventSink.NONE : eventSink,
                    defaultContextSize == null ? DEFAULT_CONTEXT_SIZE : defaultContextSize,
                    timeouts == null ? Timeouts.defaults() : timeouts,
                    defaultContextWindow == null ? DEFAULT_CONTEXT_WINDOW : defaultContextWindow, streamExecutor,
                    listenerFactory == null ? EngineListener.factory(EngineListener.NONE) : listenerFactory,
                    policies == null ? dev.parley.api.policy.PolicySet.none() : policies,
                    alertSink == null ? dev.parley.api.spi.AlertSink.NONE : alertSink, policyFactories, prices,
                    rateLimits == null ? RateLimits.NONE : rateLimits,
                    compaction == null ? dev.parley.api.compaction.Compaction.OFF : compaction);
            return provider.create(config);
        }
    }
}
