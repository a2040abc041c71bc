package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.EngineConfig;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.spi.AuditEvent;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineServices;
import dev.parley.api.spi.EventSink;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
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

    CoreServices(EngineConfig config, ConversationStore store) {
        this.store = store;
        this.clock = config.clock();
        this.ids = config.ids() != null ? config.ids() : () -> UUID.randomUUID().toString();
        this.models = new ModelRegistry(config.models());
        this.engineCounter = config.tokenCounter();
        this.steeringResolver = CachingSteeringResolver.of(config.steeringResolver(), config.steeringCacheTtl());
        this.sink = config.eventSink();
    }

    @Override
    public ConversationStore store() {
        return store;
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public String newId() {
        return Objects.requireNonNull(ids.get(), "the id source returned null");
    }

    @Override
    public ModelProvider model(String name, ConversationInfo conversation, String field) {
        return models.find(name, conversation)
                .orElseThrow(() -> new InvalidRequestException(field, "unknown model " + name));
    }

    /** Whether a model of that name is registered for a conversation in this scope. */
    boolean hasModel(String name, String organizationId, String workspaceId, String repositoryId) {
        return models.find(name, organizationId, workspaceId, repositoryId).isPresent();
    }

    @Override
    public TokenCounter tokenCounter(String modelName) {
        for (ModelProvider p : models.allNamed(modelName)) {
            Optional<TokenCounter> own = p.tokenCounter();
            if (own.isPresent()) {
                return own.get();
            }
        }
        return engineCounter != null ? engineCounter : defaultCounter.forModel(modelName);
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
    void notifySink(AuditEvent event) {
        try {
            sink.publish(event);
        } catch (RuntimeException e) {
            LOG.warn("Event sink failed on {} event of conversation {}", event.type(), event.conversationId(), e);
        }
    }
}
