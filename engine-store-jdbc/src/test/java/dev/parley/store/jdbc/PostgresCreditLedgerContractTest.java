package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.CreditLedgerContract;

/** The credit ledger contract on the PostgreSQL test database, emptied before each test. */
class PostgresCreditLedgerContractTest extends CreditLedgerContract {
    @Override
    protected ConversationStore openStore() {
        return TestDatabases.postgres();
    }
}
