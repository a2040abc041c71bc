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
 * stored only under a held claim and only when it covers more, a failure deferring the next claim. Subclasses run it
 * on other stores; {@link InMemorySummaryLogLeasesTest} checks the in-memory store's leases at exact instants.
 */
public class SummaryLogContractTest {
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    protected ConversationStore store;
    protected ConversationEngine engine;
    protected SummaryLog log;
    protected String conversation;

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

    protected Summary summary(long to) {
        return new Summary(UUID.randomUUID().toString(), conversation, 1, to, "covers 1.." + to, 6, EngineFixture.MODEL,
                new Usage(30, 6), Credits.unmetered(), Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    protected AuditEvent event(AuditEvent.Type type) {
        return new AuditEvent(UUID.randomUUID().toString(), type, conversation, EngineFixture.ORG, EngineFixture.WS,
                "alice", Instant.now(), "test");
    }

    protected java.util.Optional<Summary> commit(String token, Summary s) {
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
}
