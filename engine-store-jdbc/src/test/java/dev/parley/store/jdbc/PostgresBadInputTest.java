package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.BadInputTest;

/** engine-core's {@link BadInputTest} on Postgres. */
class PostgresBadInputTest extends BadInputTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
