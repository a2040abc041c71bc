package dev.parley.core.internal;

import dev.parley.api.ConversationEngine;
import dev.parley.api.EngineConfig;
import dev.parley.api.PromptPipeline.Position;
import dev.parley.api.PromptPipeline;
import dev.parley.api.internal.EngineProvider;
import dev.parley.core.AccessStage;
import dev.parley.core.AccountingStage;
import dev.parley.core.BudgetStage;
import dev.parley.core.ContextStage;
import dev.parley.core.PolicyStage;
import dev.parley.core.IdempotencyStage;
import dev.parley.core.PersistStage;
import dev.parley.core.ProviderCallStage;


/** engine-core's {@link EngineProvider}, registered for {@link java.util.ServiceLoader}. */
public final class CoreEngineProvider implements EngineProvider {

    @Override
    public ConversationEngine create(EngineConfig config) {
        return new DefaultConversationEngine(config);
    }

    @Override
    public PromptPipeline defaultPipeline() {
        return PromptPipeline.builder()
                .position(Position.FIRST)
                .stage(new AccessStage())
                .stage(new IdempotencyStage())
                .position(Position.ACCEPTED)
                .stage(new PersistStage())
                .position(Position.BEFORE_COMMIT)
                .stage(new AccountingStage())
                .position(Position.BEFORE_CONTEXT)
                .stage(new PolicyStage())
                .stage(new ContextStage())
                .position(Position.BEFORE_MODEL_CALL)
                .stage(new BudgetStage())
                .stage(new ProviderCallStage())
                .build();
    }
}
