package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.SummaryLogContractTest;

/** The SummaryLog contract on an in-memory H2 database, whose leases are measured by the database's clock. */
class H2SummaryLogContractTest extends SummaryLogContractTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
