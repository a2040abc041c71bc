package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.core.IdempotencyTest;

/** engine-core's {@link IdempotencyTest} on the partitioned schema ({@link PartitionedPostgres}): claims, replays, take-overs. */
class PartitionedIdempotencyTest extends IdempotencyTest {
    @Override
    protected ConversationStore newStore() {
        return PartitionedPostgres.store();
    }
}
