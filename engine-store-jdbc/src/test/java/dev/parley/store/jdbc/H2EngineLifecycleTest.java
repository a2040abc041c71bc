package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.EngineLifecycleTest;

class H2EngineLifecycleTest extends EngineLifecycleTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
