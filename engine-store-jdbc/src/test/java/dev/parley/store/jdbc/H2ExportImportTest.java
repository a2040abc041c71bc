package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ExportImportTest;

/** engine-core's {@link ExportImportTest} on H2. */
class H2ExportImportTest extends ExportImportTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
