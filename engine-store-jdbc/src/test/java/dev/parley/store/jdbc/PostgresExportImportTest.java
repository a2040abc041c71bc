package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.ExportImportTest;

/** engine-core's {@link ExportImportTest} from H2 into PostgreSQL: the same JSON out of both. */
class PostgresExportImportTest extends ExportImportTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }

    @Override
    protected ConversationStore newSourceStore() {
        return TestDatabases.h2();
    }
}
