package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.store.jdbc.internal.StorePools;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.UUID;

/** Retention and erasure on H2, checked on its tables. */
class H2RetentionTest extends StoredRetentionTest {
    private final String name = "retention-" + UUID.randomUUID();

    @Override
    protected ConversationStore newStore() {
        return JdbcConversationStore.h2InMemory(name);
    }

    @Override
    protected Connection connect() throws SQLException {
        return DriverManager.getConnection(StorePools.h2MemoryUrl(name), "sa", "");
    }
}
