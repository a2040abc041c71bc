package dev.parley.store.jdbc;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.PageRequest;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.TurnClaim;
import dev.parley.testing.ConversationStoreContract;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class H2FileStoreContractTest extends ConversationStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ConversationStore openStore() {
        return JdbcConversationStore.h2File(dir.resolve("parley"));
    }

    @Test
    void everythingIsStillThereAfterCloseAndReopenAndMigrationsAreNotReapplied() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        Message reply = turn(c, "m1", "remember 444", "remembered", new Usage(12, 2));
        ConversationInfo before = store.find(c.id()).orElseThrow();
        List<String> historyBefore = migrationHistory();
        store.close();

        store = openStore();

        assertThat(store.find(c.id())).contains(before);
        assertThat(store.messages(c.id(), PageRequest.first()).items()).extracting(Message::text)
                .containsExactly("remember 444", "remembered");
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(reply, "fp-m1"));
        store.close();
        assertThat(migrationHistory()).isEqualTo(historyBefore).hasSize(13);
        store = openStore();
    }

    /** The rows of the schema history: one per migration applied, with when it was applied. */
    private List<String> migrationHistory() throws Exception {
        List<String> rows = new ArrayList<>();
        try (Connection conn = DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("parley").toAbsolutePath(), "sa", "");
             ResultSet rs = conn.createStatement().executeQuery(
                     "SELECT \"version\", \"installed_on\" FROM \"parley_schema_history\" WHERE \"version\" <> '0' ORDER BY \"installed_rank\"")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + "@" + rs.getString(2));
            }
        }
        return rows;
    }

    @Override
    protected boolean leasesUseTheStoresOwnClock() {
        return true; // the database server's
    }
}
