package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.SummaryLogContractTest;

/** The SummaryLog contract on PostgreSQL, whose leases are measured by the database's clock. */
class PostgresSummaryLogContractTest extends SummaryLogContractTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
