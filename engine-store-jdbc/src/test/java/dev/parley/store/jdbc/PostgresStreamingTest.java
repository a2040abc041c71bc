package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.StreamingTest;

/** engine-core's {@link StreamingTest} on Postgres. */
class PostgresStreamingTest extends StreamingTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
