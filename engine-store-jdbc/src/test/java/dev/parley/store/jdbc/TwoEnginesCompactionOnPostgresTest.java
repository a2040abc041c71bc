package dev.parley.store.jdbc;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Prompt;
import dev.parley.api.compaction.Compaction;
import dev.parley.api.compaction.Summary;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.values.ModelRequest;
import dev.parley.core.CompactionTest;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two engines, each with its own store and pool, on one PostgreSQL database, sending turns to one conversation at
 * once with compaction on: each range of its history is summarized once, by whichever engine claimed it.
 */
class TwoEnginesCompactionOnPostgresTest {
    private static final int TURNS_EACH = 16;
    private final List<ConversationEngine> engines = new ArrayList<>();
    /** One summarizer for both engines, slow enough that their compactions overlap. */
    private final ScriptedModel summarizer = ScriptedModel.builder().chatOnly()
            .replyWith(r -> "Summary of the conversation up to " + CompactionTest.lastTopic(r) + ".")
            .latency(Duration.ofMillis(150)).build();

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private ConversationEngine engine(JdbcConversationStore store) {
        ConversationEngine e = ConversationEngine.builder().store(store)
                .model("scripted", ScriptedModel.echo())
                .model("summarizer", summarizer)
                .defaultModel("scripted")
                .defaultContextSize(400)
                .compaction(Compaction.summarizeWith("summarizer").threshold(150).maxInputTokens(300).build())
                .build();
        engines.add(e);
        return e;
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void twoEnginesSummarizeEachRangeOnce() throws Exception {
        ConversationEngine a = engine(TestDatabases.postgres());
        ConversationEngine b = engine(JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null));
        Conversation onA = a.as(dev.parley.core.EngineFixture.member("alice"))
                .create(dev.parley.api.NewConversation.inWorkspace(dev.parley.core.EngineFixture.WS).build());
        Conversation onB = b.as(dev.parley.core.EngineFixture.member("alice")).get(onA.id());
        CompletableFuture<Void> fromA = CompletableFuture.runAsync(() -> send(onA, 0));
        CompletableFuture<Void> fromB = CompletableFuture.runAsync(() -> send(onB, 1));
        fromA.get(60, TimeUnit.SECONDS);
        fromB.get(60, TimeUnit.SECONDS);
        SummaryLog log = (SummaryLog) a.config().configuredStore().orElseThrow();
        // Let the last compactions finish: quiet for a second.
        int calls = -1;
        int stored = -1;
        while (calls != summarizer.callCount() || stored != log.summaries(onA.id()).size()) {
            calls = summarizer.callCount();
            stored = log.summaries(onA.id()).size();
            Thread.sleep(1000);
        }
        List<Summary> summaries = log.summaries(onA.id());
        assertThat(summaries).hasSizeGreaterThanOrEqualTo(3);
        // No range was summarized twice: every call of the shared summarizer ended in a stored summary.
        assertThat(summarizer.callCount()).isEqualTo(summaries.size());
        Set<String> seen = new HashSet<>();
        List<ModelRequest> asked = summarizer.requests();
        for (int i = 0; i < asked.size(); i++) {
            String text = asked.get(i).messages().get(1).text();
            if (i > 0) {
                assertThat(text).startsWith("Earlier summary:\n" + summaries.get(i - 1).text());
            }
            for (int t = 0; t < 2 * TURNS_EACH; t++) {
                if (text.contains("User: " + CompactionTest.prompt(t) + "\n")) {
                    assertThat(seen.add("topic " + t)).as("topic %s summarized once", t).isTrue();
                }
            }
        }
        assertThat(seen).hasSize((int) (summaries.get(summaries.size() - 1).toSequence() / 2));
        assertThat(onA.messages(dev.parley.api.PageRequest.of(1, 1)).totalElements()).isEqualTo(4L * TURNS_EACH);
    }

    /** Sends the even (or odd) topics. */
    private static void send(Conversation c, int parity) {
        for (int i = 0; i < TURNS_EACH; i++) {
            c.send(Prompt.text(CompactionTest.prompt(2 * i + parity)).build());
        }
    }
}
