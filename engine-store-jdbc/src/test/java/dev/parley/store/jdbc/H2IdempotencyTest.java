package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.IdempotencyTest;

/** engine-core's {@link IdempotencyTest} on H2. */
class H2IdempotencyTest extends IdempotencyTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
