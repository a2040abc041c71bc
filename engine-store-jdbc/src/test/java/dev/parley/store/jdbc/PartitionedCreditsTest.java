package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.CreditsTest;

/**
 * engine-core's {@link CreditsTest} on the partitioned schema ({@link PartitionedPostgres}): a metered turn's reserve,
 * charge and reply credits, with a second engine on a pool of its own on the same data.
 */
class PartitionedCreditsTest extends CreditsTest {
    @Override
    protected ConversationStore newStore() {
        return PartitionedPostgres.store();
    }

    @Override
    protected ConversationStore sameData(ConversationStore first) {
        return PartitionedPostgres.sameData();
    }
}
