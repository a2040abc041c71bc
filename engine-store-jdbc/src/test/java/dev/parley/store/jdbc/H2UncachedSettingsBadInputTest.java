package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.BadInputTest;

/** engine-core's {@link BadInputTest} on H2 with the settings cache off: every turn reads the settings row. */
class H2UncachedSettingsBadInputTest extends BadInputTest {
    @Override
    protected ConversationStore newStore() {
        return JdbcConversationStore.builder().h2InMemory("uncached-" + java.util.UUID.randomUUID())
                .settingsCacheSize(0).build();
    }
}
