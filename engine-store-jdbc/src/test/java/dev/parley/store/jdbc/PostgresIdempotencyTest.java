package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.IdempotencyTest;

/** engine-core's {@link IdempotencyTest} on Postgres. */
class PostgresIdempotencyTest extends IdempotencyTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
