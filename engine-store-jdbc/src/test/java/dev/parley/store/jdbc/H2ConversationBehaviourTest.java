package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ConversationBehaviourTest;

/** engine-core's {@link ConversationBehaviourTest} on H2. */
class H2ConversationBehaviourTest extends ConversationBehaviourTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
