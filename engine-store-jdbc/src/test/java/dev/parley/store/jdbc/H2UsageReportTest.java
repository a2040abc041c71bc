package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.UsageReportTest;

/**
 * engine-core's {@link UsageReportTest} on H2: the reports are summed by the database from the usage entries each
 * turn's commit wrote.
 */
class H2UsageReportTest extends UsageReportTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.h2();
    }
}
