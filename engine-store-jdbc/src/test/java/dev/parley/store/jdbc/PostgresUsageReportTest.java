package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.UsageReportTest;

/**
 * engine-core's {@link UsageReportTest} on PostgreSQL: the reports are summed by the database from the usage entries
 * each turn's commit wrote, credits as exact decimals.
 */
class PostgresUsageReportTest extends UsageReportTest {
    @Override
    protected ConversationStore newStore() {
        return TestDatabases.postgres();
    }
}
