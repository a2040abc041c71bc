package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ConversationStoreContract;

class PostgresStoreContractTest extends ConversationStoreContract {
    @Override
    protected ConversationStore openStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected boolean leasesUseTheStoresOwnClock() {
        return true; // the database server's
    }
}
