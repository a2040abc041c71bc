package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.BadInputTest;

/** engine-core's {@link BadInputTest} on H2. */
class H2BadInputTest extends BadInputTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
