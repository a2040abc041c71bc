package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.StoreContractPropertyTest;

/** engine-core's {@link StoreContractPropertyTest} on PostgreSQL. */
class PostgresStoreContractPropertyTest extends StoreContractPropertyTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
