package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Conversations;
import dev.parley.api.EngineConfig;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PromptStage;
import dev.parley.core.InMemoryConversationStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/** The engine of engine-core. Thread safe. */
final class DefaultConversationEngine implements ConversationEngine {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultConversationEngine.class);

    private final EngineConfig config;
    private final CoreServices services;
    private final List<PromptStage> stages;
    private final AtomicBoolean closed = new AtomicBoolean();

    DefaultConversationEngine(EngineConfig config) {
        this.config = config;
        ConversationStore store = config.configuredStore().orElseGet(() -> {
            LOG.info("No conversation store configured: conversations are kept in memory and lost when the engine closes");
            return new InMemoryConversationStore();
        });
        this.services = new CoreServices(config, store);
        this.stages = config.pipeline().stages();
    }

    @Override
    public Conversations as(Caller caller) {
        Objects.requireNonNull(caller, "caller");
        if (closed.get()) {
            throw new IllegalStateException("the engine is closed");
        }
        return new CallerConversations(caller, this);
    }

    @Override
    public EngineConfig config() {
        return config;
    }

    CoreServices services() {
        return services;
    }

    List<PromptStage> stages() {
        return stages;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                services.store().close();
            } catch (Exception e) {
                LOG.warn("Closing the conversation store failed", e);
            }
        }
    }
}
