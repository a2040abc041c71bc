package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.EngineLifecycleTest;

class PostgresEngineLifecycleTest extends EngineLifecycleTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
