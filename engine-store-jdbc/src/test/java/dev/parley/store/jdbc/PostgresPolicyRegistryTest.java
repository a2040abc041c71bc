package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.PolicyRegistryTest;

/**
 * engine-core's {@link PolicyRegistryTest} on PostgreSQL: the second engine has a store of its own, with its own
 * pool, on the same database (not emptied again), so a run-time change made through the first engine reaches the
 * second one through the database, on its next turn.
 */
class PostgresPolicyRegistryTest extends PolicyRegistryTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected ConversationStore sameData(ConversationStore first) {
        return JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null);
    }
}
