package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.CreditsTest;

/**
 * engine-core's {@link CreditsTest} on PostgreSQL: the second engine has a store of its own, with its own pool, on
 * the same database (not emptied again), so that two engines on two pools reserve and charge against the same
 * balances, and must never spend past them.
 */
class PostgresCreditsTest extends CreditsTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected ConversationStore sameData(ConversationStore first) {
        return JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null);
    }
}
