package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.TargetedCancelTest;

class H2TargetedCancelTest extends TargetedCancelTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
