package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.CreditLedgerContract;

import java.util.UUID;

/**
 * The credit ledger contract on an H2 database the host names by its own URL: the store cannot know that no other
 * process shares it (an H2 server, {@code AUTO_SERVER}), so it keeps holds in the hold table, as on PostgreSQL,
 * rather than in this JVM as for a database it opened itself.
 */
class H2HoldTableCreditLedgerContractTest extends CreditLedgerContract {
    @Override
    protected ConversationStore openStore() {
        return JdbcConversationStore.builder()
                .jdbcUrl("jdbc:h2:mem:holds-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000", "sa", "")
                .build();
    }
}
