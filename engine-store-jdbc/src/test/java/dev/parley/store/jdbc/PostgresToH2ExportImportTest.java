package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ExportImportTest;

/** engine-core's {@link ExportImportTest} from PostgreSQL into H2: the same JSON out of both. */
class PostgresToH2ExportImportTest extends ExportImportTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }

    @Override
    protected ConversationStore newSourceStore() {
        return TestDatabases.postgres();
    }
}
