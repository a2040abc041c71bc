package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.RateLimitTest;

/**
 * engine-core's {@link RateLimitTest} on PostgreSQL: the second engine has a store of its own, with its own pool, on
 * the same database (not emptied again), so that two engines on two pools admit against the same counters, and
 * between them must never admit more than the limit in a minute. Each test has an organization of its own, so its
 * counters start fresh.
 */
class PostgresRateLimitTest extends RateLimitTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected ConversationStore sameData(ConversationStore first) {
        return JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null);
    }
}
