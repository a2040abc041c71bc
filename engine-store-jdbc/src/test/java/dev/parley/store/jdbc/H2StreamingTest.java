package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.StreamingTest;

/** engine-core's {@link StreamingTest} on H2. */
class H2StreamingTest extends StreamingTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
