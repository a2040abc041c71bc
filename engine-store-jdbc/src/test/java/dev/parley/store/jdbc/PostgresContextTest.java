package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ContextTest;

/** engine-core's {@link ContextTest} on Postgres. */
class PostgresContextTest extends ContextTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
