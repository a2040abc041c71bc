package dev.parley.core;

import dev.parley.api.values.AuditEvent;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The in-memory store measures compaction leases and deferrals by the instants it is given (the JDBC store by the
 * database's clock), so they can be checked at exact instants: a lease lapses at its end, and failures in a row
 * defer the next claim twice as long each time until a summary is stored.
 */
class InMemorySummaryLogLeasesTest extends SummaryLogContractTest {
    @Test
    void leasesLapseAndFailuresInARowDeferLonger() {
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
