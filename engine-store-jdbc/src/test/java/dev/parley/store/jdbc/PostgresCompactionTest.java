package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.CompactionTest;

/** Summarizing compaction on PostgreSQL. */
class PostgresCompactionTest extends CompactionTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
