package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.GovernanceTest;

import java.sql.DriverManager;
import java.util.List;

/** engine-core's {@link GovernanceTest} on PostgreSQL, with what the store keeps read from its rows. */
class PostgresGovernanceTest extends GovernanceTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected List<String> storedTexts(ConversationStore kept, String conversationId) {
        return StoredTexts.of(() -> DriverManager.getConnection(TestDatabases.postgresUrl()), conversationId);
    }
}
