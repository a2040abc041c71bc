package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.AccessTest;

/** engine-core's {@link AccessTest} on Postgres. */
class PostgresAccessTest extends AccessTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
