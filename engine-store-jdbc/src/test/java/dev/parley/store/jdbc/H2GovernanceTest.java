package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.GovernanceTest;

import java.sql.DriverManager;
import java.util.List;
import java.util.UUID;

/** engine-core's {@link GovernanceTest} on H2, with what the store keeps read from its rows. */
class H2GovernanceTest extends GovernanceTest {
    /** The in-memory database's name; set by {@link #newStore()}, which runs before any initializer here would. */
    private String name;

    @Override
    protected ConversationStore newStore() {
        name = "governance-" + UUID.randomUUID();
        return JdbcConversationStore.h2InMemory(name);
    }

    @Override
    protected List<String> storedTexts(ConversationStore kept, String conversationId) {
        return StoredTexts.of(() -> DriverManager.getConnection("jdbc:h2:mem:" + name, "sa", ""), conversationId);
    }
}
