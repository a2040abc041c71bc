package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.StreamingTest;

/** engine-core's {@link StreamingTest} on H2 with models that only chat: each stream is one delta. */
class H2ChatOnlyModelStreamingTest extends StreamingTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }

    @Override
    protected boolean modelStreams() {
        return false;
    }
}
