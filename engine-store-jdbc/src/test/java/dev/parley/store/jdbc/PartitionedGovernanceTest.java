package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.GovernanceTest;

import java.sql.DriverManager;
import java.util.List;

/**
 * engine-core's {@link GovernanceTest} on the partitioned schema ({@link PartitionedPostgres}): blocked turns,
 * violations and their events, with what the store keeps read from its rows.
 */
class PartitionedGovernanceTest extends GovernanceTest {
    @Override
    protected ConversationStore newStore() {
        return PartitionedPostgres.store();
    }

    @Override
    protected List<String> storedTexts(ConversationStore kept, String conversationId) {
        return StoredTexts.of(() -> DriverManager.getConnection(PartitionedPostgres.url()), conversationId);
    }
}
