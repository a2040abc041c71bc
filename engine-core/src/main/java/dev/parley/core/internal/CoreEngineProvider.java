package dev.parley.core.internal;

import dev.parley.api.ConversationEngine;
import dev.parley.api.EngineConfig;
import dev.parley.api.spi.EngineProvider;
import dev.parley.api.spi.PromptStage;
import dev.parley.core.AccessStage;
import dev.parley.core.AccountingStage;
import dev.parley.core.ContextStage;
import dev.parley.core.IdempotencyStage;
import dev.parley.core.PersistStage;
import dev.parley.core.ProviderCallStage;

import java.util.List;

/** engine-core's {@link EngineProvider}, registered for {@link java.util.ServiceLoader}. */
public final class CoreEngineProvider implements EngineProvider {

    @Override
    public ConversationEngine create(EngineConfig config) {
        return new DefaultConversationEngine(config);
    }

    @Override
    public List<PromptStage> defaultStages() {
        return List.of(new AccessStage(), new IdempotencyStage(), new PersistStage(), new AccountingStage(),
                new ContextStage(), new ProviderCallStage());
    }
}
