package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.IdempotencyTest;

/** engine-core's {@link IdempotencyTest} on H2 with the settings cache off: every turn reads the settings row. */
class H2UncachedSettingsIdempotencyTest extends IdempotencyTest {
    @Override
    protected ConversationStore newStore() {
        return JdbcConversationStore.builder().h2InMemory("uncached-" + java.util.UUID.randomUUID())
                .settingsCacheSize(0).build();
    }
}
