package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.CreditLedgerContract;

/** The credit ledger contract on a fresh in-memory H2 database per test. */
class H2MemoryCreditLedgerContractTest extends CreditLedgerContract {
    @Override
    protected ConversationStore openStore() {
        return TestDatabases.h2();
    }
}
