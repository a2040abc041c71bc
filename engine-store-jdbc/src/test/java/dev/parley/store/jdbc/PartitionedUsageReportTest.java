package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.UsageReportTest;

/** engine-core's {@link UsageReportTest} on the partitioned schema ({@link PartitionedPostgres}): usage rows, and reports across partitions. */
class PartitionedUsageReportTest extends UsageReportTest {
    @Override
    protected ConversationStore newStore() {
        return PartitionedPostgres.store();
    }
}
