package dev.parley.store.jdbc;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationQuery;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.core.EngineFixture;
import dev.parley.store.jdbc.internal.H2FileCompaction;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The H2 file a store opens is compacted while turns run. Without it H2 (with {@code WRITE_DELAY=0}) never rewrites
 * its chunks, and the file grows with every commit. The same 1,500 turns on two stores, one with the compaction
 * stopped: H2's retention time is set to 0 on both so that freed space is reused at once rather than after 45 s,
 * and the compacted file ends at most half the other's size, with every turn still there after a reopen.
 */
class H2FileCompactionTest {
    private static final int TURNS = 1_500;

    @TempDir
    Path dir;

    @Test
    void aStoreOnAnH2FileKeepsItsFileSmallAndLosesNothing() throws Exception {
        long compacted = run("compacted", true);
        long grown = run("grown", false);
        assertThat(compacted).isLessThanOrEqualTo(grown / 2);

        JdbcConversationStore reopened = JdbcConversationStore.h2File(dir.resolve("compacted"));
        try (ConversationEngine engine = ConversationEngine.builder().store(reopened).model("m", ScriptedModel.echo())
                .build()) {
            var as = engine.as(EngineFixture.member("alice"));
            var list = as.list(ConversationQuery.all(PageRequest.of(1, 100))).items();
            assertThat(list).hasSize(20);
            long messages = 0;
            for (var info : list) {
                messages += as.get(info.id()).messages(PageRequest.of(1, 1)).totalElements();
            }
            assertThat(messages).isEqualTo(2L * TURNS);
        }
        reopened.close();
    }

    /** {@link #TURNS} turns over 20 conversations; the file's size afterwards. */
    private long run(String name, boolean compact) throws Exception {
        JdbcConversationStore store = JdbcConversationStore.h2File(dir.resolve(name));
        H2FileCompaction compaction = store.h2Compaction();
        assertThat(compaction).isNotNull();
        compaction.retentionTime(Duration.ZERO);
        if (!compact) {
            compaction.close();
        }
        try (ConversationEngine engine = ConversationEngine.builder().store(store).model("m", ScriptedModel.echo())
                .build()) {
            var as = engine.as(EngineFixture.member("alice"));
            Conversation[] conversations = new Conversation[20];
            for (int i = 0; i < conversations.length; i++) {
                conversations[i] = as.create(NewConversation.inWorkspace(EngineFixture.WS).build());
            }
            for (int turn = 0; turn < TURNS; turn++) {
                conversations[turn % conversations.length].send(Prompt.text("turn " + turn + " of a long day").build());
                if (compact && turn % 100 == 99) {
                    // What the scheduled runs do over time, at a pace a test can see: run until nothing is left.
                    for (int run = 0; run < 20 && compaction.runOnce(); run++) {
                        // each run rewrites at most a few hundred KB
                    }
                }
            }
            return Files.size(dir.resolve(name + ".mv.db"));
        } finally {
            store.close();
        }
    }
}
