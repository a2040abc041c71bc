package dev.parley.store.jdbc;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Steering;
import dev.parley.api.spi.TurnClaim;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class ClaimLeaseTest {

    @Test
    void aClaimLeftPastItsLeaseIsTakenOverAndItsOldHolderCannotReleaseTheNewClaim() {
        try (JdbcConversationStore store = JdbcConversationStore.builder()
                .h2InMemory("lease-" + UUID.randomUUID()).claimLease(Duration.ofSeconds(10)).build()) {
            Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
            store.insert(new ConversationInfo("c-1", "org", "ws", null, "alice", Steering.NONE, null, 0, 0, t0, t0),
                    new dev.parley.api.spi.AuditEvent("e-1", dev.parley.api.spi.AuditEvent.Type.CONVERSATION_CREATED,
                            "c-1", "org", "ws", "alice", t0, ""));

            assertThat(store.claimTurn("c-1", "m-1", t0)).isInstanceOf(TurnClaim.Claimed.class);
            assertThat(store.claimTurn("c-1", "m-1", t0.plusSeconds(9))).isInstanceOf(TurnClaim.InProgress.class);
            Instant takeover = t0.plusSeconds(11);
            assertThat(store.claimTurn("c-1", "m-1", takeover)).isInstanceOf(TurnClaim.Claimed.class);

            store.releaseTurn("c-1", "m-1", t0); // the first holder gives up late: the new claim must stay
            assertThat(store.claimTurn("c-1", "m-1", t0.plusSeconds(12))).isInstanceOf(TurnClaim.InProgress.class);

            store.releaseTurn("c-1", "m-1", takeover);
            assertThat(store.claimTurn("c-1", "m-1", t0.plusSeconds(13))).isInstanceOf(TurnClaim.Claimed.class);
        }
    }
}
