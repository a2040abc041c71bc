package dev.parley.store.jdbc;

import dev.parley.api.ConversationEngine;
import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ConversationBehaviourTest;

import java.time.Duration;

/**
 * engine-core's {@link ConversationBehaviourTest} on H2 with both caches off: the store's settings cache and the
 * engine's steering cache (TTL 0), so every turn reads the settings row and asks the steering resolver.
 */
class H2UncachedSettingsAndSteeringConversationBehaviourTest extends ConversationBehaviourTest {
    @Override
    protected ConversationStore newStore() {
        return JdbcConversationStore.builder().h2InMemory("uncached-" + java.util.UUID.randomUUID())
                .settingsCacheSize(0).build();
    }

    @Override
    protected ConversationEngine.Builder configure(ConversationEngine.Builder builder) {
        return builder.steeringCacheTtl(Duration.ZERO);
    }

    @Override
    protected boolean steeringIsCached() {
        return false;
    }
}
