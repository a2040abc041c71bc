package dev.parley.core;

import dev.parley.api.ConversationEngine;
import dev.parley.api.Credits;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Usage;
import dev.parley.api.compaction.Summary;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The compaction claim and summary commit of a {@link SummaryLog}, called directly: one holder at a time, a summary
 * stored only under a held claim and only when it covers more, a failure deferring the next claim. The in-memory
 * store measures leases by the instants given, so it is checked at exact instants too; subclasses run the rest on
 * other stores.
 */
public class SummaryLogContractTest {
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /** Whether the store measures leases and deferrals by the instants it is given (the in-memory store does). */
    protected boolean leasesByGivenInstants() {
        return true;
    }

    private ConversationStore store;
    private ConversationEngine engine;
    private SummaryLog log;
    private String conversation;

    @BeforeEach
    void aConversationOfSixMessages() {
        store = newStore();
        log = (SummaryLog) store;
        engine = EngineFixture.builder(ScriptedModel.echo(), store, java.time.Clock.systemUTC()).build();
        var c = engine.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(EngineFixture.WS).build());
        for (int i = 0; i < 3; i++) {
            c.send(Prompt.text("question " + i).build());
        }
        conversation = c.id();
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private Summary summary(long to) {
        return new Summary(UUID.randomUUID().toString(), conversation, 1, to, "covers 1.." + to, 6, EngineFixture.MODEL,
                new Usage(30, 6), Credits.unmetered(), Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    private AuditEvent event(AuditEvent.Type type) {
        return new AuditEvent(UUID.randomUUID().toString(), type, conversation, EngineFixture.ORG, EngineFixture.WS,
                "alice", Instant.now(), "test");
    }

    private java.util.Optional<Summary> commit(String token, Summary s) {
        return log.commitSummary(token, s, null, null, event(AuditEvent.Type.CONVERSATION_COMPACTED));
    }

    @Test
    void oneHolderAtATimeAndASummaryOnlyUnderItsClaimCoveringMore() {
        Instant now = Instant.now();
        Duration lease = Duration.ofMinutes(5);
        assertThat(log.claimCompaction(conversation, "a", now, lease)).isTrue();
        assertThat(log.claimCompaction(conversation, "b", now, lease)).as("held by a").isFalse();
        assertThat(commit("b", summary(2))).as("b holds no claim").isEmpty();
        assertThat(log.renewCompaction(conversation, "b", now, lease)).isFalse();
        assertThat(log.renewCompaction(conversation, "a", now, lease)).isTrue();
        Summary first = commit("a", summary(4)).orElseThrow();
        assertThat(log.latestSummary(conversation)).contains(first);
        assertThat(commit("a", summary(6))).as("the claim ended with the commit").isEmpty();

        assertThat(log.claimCompaction(conversation, "b", now, lease)).as("free again").isTrue();
        assertThat(commit("b", summary(4))).as("covers no more than the latest").isEmpty();
        assertThat(commit("b", summary(8))).as("covers messages the conversation does not have").isEmpty();
        log.releaseCompaction(conversation, "b");
        assertThat(log.claimCompaction(conversation, "c", now, lease)).isTrue();
        Summary second = commit("c", summary(6)).orElseThrow();
        assertThat(log.summaries(conversation)).containsExactly(first, second);
        assertThat(store.events(conversation)).filteredOn(e -> e.type() == AuditEvent.Type.CONVERSATION_COMPACTED)
                .hasSize(2);
        assertThat(log.claimCompaction("no-such-conversation", "d", now, lease)).isFalse();
    }

    @Test
    void aFailureDefersTheNextClaimAndRecordsItsEvent() {
        Instant now = Instant.now();
        assertThat(log.claimCompaction(conversation, "a", now, Duration.ofMinutes(5))).isTrue();
        log.failCompaction(conversation, "a", now, Duration.ofMinutes(10), event(AuditEvent.Type.COMPACTION_FAILED),
                null);
        assertThat(log.claimCompaction(conversation, "b", now, Duration.ofMinutes(5))).as("deferred").isFalse();
        assertThat(store.events(conversation)).filteredOn(e -> e.type() == AuditEvent.Type.COMPACTION_FAILED)
                .hasSize(1);
        assertThat(log.summaries(conversation)).isEmpty();
    }

    @Test
    void leasesLapseAndFailuresInARowDeferLonger() {
        org.junit.jupiter.api.Assumptions.assumeTrue(leasesByGivenInstants());
        Instant t = Instant.parse("2026-06-01T00:00:00Z");
        Duration lease = Duration.ofSeconds(10);
        assertThat(log.claimCompaction(conversation, "a", t, lease)).isTrue();
        assertThat(log.claimCompaction(conversation, "b", t.plusSeconds(9), lease)).isFalse();
        assertThat(log.claimCompaction(conversation, "b", t.plusSeconds(10), lease)).as("a's lease lapsed").isTrue();
        assertThat(commit("a", summary(2))).as("a lost its claim").isEmpty();
        Duration retry = Duration.ofSeconds(1);
        log.failCompaction(conversation, "b", t.plusSeconds(10), retry, event(AuditEvent.Type.COMPACTION_FAILED), null);
        assertThat(log.claimCompaction(conversation, "c", t.plusSeconds(10).plusMillis(999), lease)).isFalse();
        assertThat(log.claimCompaction(conversation, "c", t.plusSeconds(11), lease)).isTrue();
        log.failCompaction(conversation, "c", t.plusSeconds(11), retry, event(AuditEvent.Type.COMPACTION_FAILED), null);
        assertThat(log.claimCompaction(conversation, "d", t.plusSeconds(12), lease)).as("doubled").isFalse();
        assertThat(log.claimCompaction(conversation, "d", t.plusSeconds(13), lease)).isTrue();
        commit("d", summary(2)).orElseThrow();
        assertThat(log.claimCompaction(conversation, "e", t.plusSeconds(13), lease)).as("a summary resets the count")
                .isTrue();
        log.failCompaction(conversation, "e", t.plusSeconds(13), retry, event(AuditEvent.Type.COMPACTION_FAILED), null);
        assertThat(log.claimCompaction(conversation, "f", t.plusSeconds(14), lease)).isTrue();
    }
}
