package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.EngineConfig;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.EngineServices;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** What one engine offers its pipeline and its handles. Immutable after construction; thread safe. */
final class CoreServices implements EngineServices {
    private static final Logger LOG = LoggerFactory.getLogger(CoreServices.class);

    private final ConversationStore store;
    private final Clock clock;
    private final Supplier<String> ids;
    private final ModelRegistry models;
    private final TokenCounter engineCounter;
    private final DefaultTokenCounter defaultCounter = new DefaultTokenCounter();
    private final SteeringResolver steeringResolver;
    private final EventSink sink;
    private final RegistryRules policies;
    private final dev.parley.api.spi.AlertSink alertSink;
    private final int defaultContextWindow;
    /** The checked counter of each registered model name, built on first use. */
    private final java.util.concurrent.ConcurrentMap<String, TokenCounter> counters =
            new java.util.concurrent.ConcurrentHashMap<>();

    CoreServices(EngineConfig config, ConversationStore store) {
        this.store = store;
        this.clock = config.clock();
        this.ids = config.ids() != null ? config.ids() : dev.parley.api.internal.TimeOrderedIds::next;
        this.models = new ModelRegistry(config.models());
        this.engineCounter = config.tokenCounter();
        this.steeringResolver = CachingSteeringResolver.of(new CheckedSteeringResolver(config.steeringResolver()),
                config.steeringCacheTtl());
        this.sink = config.eventSink();
        this.policies = new RegistryRules(config.policies(),
                store instanceof dev.parley.api.spi.PolicyRegistry r ? r : null, config.policyFactories(),
                config.scopeDirectory());
        this.alertSink = config.alertSink();
        this.defaultContextWindow = config.defaultContextWindow();
        this.timeouts = config.timeouts();
        this.compaction = config.compaction();
    }

    private final dev.parley.api.compaction.Compaction compaction;

    /** A latest summary read, with the count of changes to its conversation's summaries it was read at. */
    private record KnownSummary(long version, Optional<dev.parley.api.compaction.Summary> summary) {
    }

    /** The latest summary of recently compacted conversations, by conversation id; empty until one is read. */
    private final com.github.benmanes.caffeine.cache.Cache<String, KnownSummary> summaries =
            com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000).build();

    /**
     * The conversation's latest summary, from what this engine read before when the turn's first read found the
     * conversation's summaries unchanged since ({@code version}), else from the store. Versions only grow, and a
     * summary is stored or deleted with its count changed in one transaction, so an answer kept for a version is the
     * store's latest at that version or a newer one.
     */
    java.util.Optional<dev.parley.api.compaction.Summary> latestSummary(String conversationId, long version) {
        KnownSummary known = summaries.getIfPresent(conversationId);
        if (known != null && known.version() == version) {
            return known.summary();
        }
        java.util.Optional<dev.parley.api.compaction.Summary> read = EngineServices.super.latestSummary(conversationId);
        summaries.put(conversationId, new KnownSummary(version, read));
        return read;
    }

    @Override
    public dev.parley.api.compaction.Compaction compaction() {
        return compaction;
    }

    private final dev.parley.api.Timeouts timeouts;

    @Override
    public dev.parley.api.Timeouts timeouts() {
        return timeouts;
    }

    @Override
    public ConversationStore store() {
        return store;
    }

    @Override
    public Clock clock() {
        return clock;
    }

    /**
     * A new id from the host's id source, checked as a client id would be: an id the in-memory store would take
     * and a database column would refuse (too long, control or format characters) fails here, naming the source.
     */
    @Override
    public String newId() {
        String id = ids.get();
        if (id == null) {
            throw new IllegalStateException("the engine's id source " + ids + " returned null");
        }
        try {
            return dev.parley.api.internal.Checks.id("id", id);
        } catch (InvalidRequestException e) {
            throw new IllegalStateException("the engine's id source " + ids + " returned an invalid id ("
                    + id.length() + " chars): " + e.getMessage());
        }
    }

    @Override
    public ModelProvider model(String name, ConversationInfo conversation, String field) {
        return models.find(name, conversation)
                .orElseThrow(() -> new InvalidRequestException(field, "unknown model " + name));
    }

    /** The models registered under a name, in any scope. */
    List<ModelProvider> allNamed(String name) {
        return models.allNamed(name);
    }

    /** Whether a model of that name is registered for a conversation in this scope. */
    boolean hasModel(String name, String organizationId, String workspaceId, String repositoryId) {
        return models.find(name, organizationId, workspaceId, repositoryId).isPresent();
    }

    @Override
    public TokenCounter tokenCounter(String modelName) {
        return counters.computeIfAbsent(modelName, this::counterFor);
    }

    /** The model's own counter, else the host's, else the default estimator for the provider's own model name. */
    private TokenCounter counterFor(String registeredName) {
        List<ModelProvider> named = models.allNamed(registeredName);
        for (ModelProvider p : named) {
            Optional<TokenCounter> own = p.tokenCounter();
            if (own.isPresent()) {
                return new CheckedTokenCounter(own.get(), "model " + registeredName + "'s token counter");
            }
        }
        if (engineCounter != null) {
            return new CheckedTokenCounter(engineCounter, "the engine's token counter");
        }
        String providerName = named.stream().map(ModelProvider::modelName).flatMap(Optional::stream).findFirst()
                .orElse(registeredName);
        return defaultCounter.forModel(providerName);
    }

    @Override
    public int contextWindow(String name, ConversationInfo conversation) {
        return models.find(name, conversation).map(ModelProvider::contextWindow)
                .filter(java.util.OptionalInt::isPresent).map(java.util.OptionalInt::getAsInt)
                .orElse(defaultContextWindow);
    }

    @Override
    public SteeringResolver steeringResolver() {
        return steeringResolver;
    }

    @Override
    public void publish(AuditEvent event) {
        store.append(event);
        notifySink(event);
    }

    /** Hands an event the store has already kept to the host's sink; a failing sink is logged. */
    @Override
    public java.util.List<dev.parley.api.policy.PolicyRule> policies(ConversationInfo conversation) {
        return policies.rulesFor(conversation, java.util.OptionalLong.empty());
    }

    /** The rules of a turn that read the registry's version with its conversation, if it did. */
    java.util.List<dev.parley.api.policy.PolicyRule> policies(ConversationInfo conversation,
                                                               java.util.OptionalLong version) {
        return policies.rulesFor(conversation, version);
    }

    RegistryRules registryRules() {
        return policies;
    }

    /** Hands a stored ALERT violation to the host's alert sink; a failing sink is logged, never thrown. */
    void alert(dev.parley.api.policy.Violation violation) {
        try {
            alertSink.alert(violation);
        } catch (RuntimeException e) {
            LOG.warn("Alert sink failed on violation {} of rule {} in conversation {}", violation.id(),
                    violation.ruleId(), violation.conversationId(), e);
        }
    }

    void notifySink(AuditEvent event) {
        try {
            sink.publish(event);
        } catch (RuntimeException e) {
            LOG.warn("Event sink failed on {} event of conversation {}", event.type(), event.conversationId(), e);
        }
    }
}
