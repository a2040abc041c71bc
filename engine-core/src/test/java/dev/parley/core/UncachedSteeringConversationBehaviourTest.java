package dev.parley.core;

import dev.parley.api.ConversationEngine;

import java.time.Duration;

/** {@link ConversationBehaviourTest} with the steering cache off (TTL 0): every turn asks the resolver. */
class UncachedSteeringConversationBehaviourTest extends ConversationBehaviourTest {
    @Override
    protected ConversationEngine.Builder configure(ConversationEngine.Builder builder) {
        return builder.steeringCacheTtl(Duration.ZERO);
    }

    @Override
    protected boolean steeringIsCached() {
        return false;
    }
}
