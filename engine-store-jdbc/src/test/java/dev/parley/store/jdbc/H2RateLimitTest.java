package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.RateLimitTest;

import java.util.UUID;

/**
 * engine-core's {@link RateLimitTest} on H2: the second engine has a store of its own (its own pool) on the same
 * in-memory database, so that the two engines share the counters only through the database.
 */
class H2RateLimitTest extends RateLimitTest {
    /** The in-memory database's name; set by {@link #newStore()}, which runs before any initializer here would. */
    private String name;

    @Override
    protected ConversationStore newStore() {
        name = "rate-limits-" + UUID.randomUUID();
        return JdbcConversationStore.h2InMemory(name);
    }

    @Override
    protected ConversationStore sameData(ConversationStore first) {
        return JdbcConversationStore.h2InMemory(name);
    }
}
