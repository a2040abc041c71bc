package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.StoreContractPropertyTest;

/** engine-core's {@link StoreContractPropertyTest} on H2. */
class H2StoreContractPropertyTest extends StoreContractPropertyTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
