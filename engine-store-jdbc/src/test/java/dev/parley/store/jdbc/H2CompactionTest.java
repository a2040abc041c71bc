package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.CompactionTest;

/** Summarizing compaction on an in-memory H2 database. */
class H2CompactionTest extends CompactionTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
