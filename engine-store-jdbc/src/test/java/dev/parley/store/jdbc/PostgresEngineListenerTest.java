package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.EngineListenerTest;

/** engine-core's {@link EngineListenerTest} on Postgres. */
class PostgresEngineListenerTest extends EngineListenerTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
