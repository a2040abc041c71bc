package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.TargetedCancelTest;

class PostgresTargetedCancelTest extends TargetedCancelTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
