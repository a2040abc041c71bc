package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ConversationStoreContract;

class H2MemoryStoreContractTest extends ConversationStoreContract {
    @Override
    protected ConversationStore openStore() {
        return TestDatabases.h2();
    }

    @Override
    protected boolean leasesUseTheStoresOwnClock() {
        return true; // the database server's
    }
}
