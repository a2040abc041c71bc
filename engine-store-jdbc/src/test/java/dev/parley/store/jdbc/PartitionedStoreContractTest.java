package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ConversationStoreContract;

/** The store contract on the partitioned schema ({@link PartitionedPostgres}). */
class PartitionedStoreContractTest extends ConversationStoreContract {
    @Override
    protected ConversationStore openStore() {
        return PartitionedPostgres.store();
    }

    @Override
    protected boolean leasesUseTheStoresOwnClock() {
        return true; // the database server's
    }
}
