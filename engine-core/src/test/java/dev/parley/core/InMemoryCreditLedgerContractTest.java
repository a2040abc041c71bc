package dev.parley.core;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.CreditLedgerContract;

/** The credit ledger contract on the in-memory store. */
class InMemoryCreditLedgerContractTest extends CreditLedgerContract {
    @Override
    protected ConversationStore openStore() {
        return new InMemoryConversationStore();
    }
}
