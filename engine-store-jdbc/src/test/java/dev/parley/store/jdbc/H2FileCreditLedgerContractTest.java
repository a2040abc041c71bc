package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.CreditLedgerContract;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The credit ledger contract on an H2 database file of its own per test, as the store builds it. */
class H2FileCreditLedgerContractTest extends CreditLedgerContract {
    @TempDir
    Path dir;

    @Override
    protected ConversationStore openStore() {
        return JdbcConversationStore.h2File(dir.resolve("parley"));
    }
}
