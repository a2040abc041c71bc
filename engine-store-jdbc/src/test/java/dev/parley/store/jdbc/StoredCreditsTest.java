package dev.parley.store.jdbc;

import dev.parley.api.ConversationInfo;
import dev.parley.api.Credits;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The credits a stored reply keeps read back exactly, at {@link Credits#SCALE} decimals, by every read of it: the
 * replay's claim, message pages and the history tail; the prompt, and the replies of unmetered turns, read back
 * unmetered.
 */
class StoredCreditsTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00.123456789Z");
    private static final Duration LEASE = Duration.ofMinutes(1);
    /** Prices at all six decimals, so that a cost uses all nine. */
    private static final ModelPrice PRICE = ModelPrice.perThousand("0.000001", "0.123457").plusPerRequest("0.000003");

    @Test
    void theCreditsOfAStoredReplyReadBackExactlyOnH2() {
        try (JdbcConversationStore store = TestDatabases.h2()) {
            roundTrip(store);
        }
    }

    @Test
    void theCreditsOfAStoredReplyReadBackExactlyOnPostgres() {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            roundTrip(store);
        }
    }

    private static void roundTrip(JdbcConversationStore store) {
        String org = "org-" + UUID.randomUUID();
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), org, "ws", null, "alice", Steering.NONE,
                null, 0, 0, T0, T0);
        store.insert(c, new AuditEvent("e-" + UUID.randomUUID(), AuditEvent.Type.CONVERSATION_CREATED, c.id(), org,
                "ws", "alice", T0, ""));
        Message unmetered = commit(store, c, "m-0", null);
        assertThat(unmetered.credits()).isEqualTo(Credits.unmetered());

        store.putPrice("model", PRICE, false, T0);
        CreditAccount a = store.openAccount("acct-" + UUID.randomUUID(), AccountOwner.organization(org), T0);
        store.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal("12.345678901"), "funds",
                T0);
        CreditHold hold = store.reserve(new HoldRequest("h-" + UUID.randomUUID(), c.id(), "m-1",
                List.of(AccountOwner.organization(org), AccountOwner.user(org, "alice")), "model", 7, 9, T0, LEASE));
        Message reply = commit(store, c, "m-1", new TurnCharge(hold, 7, 9));

        BigDecimal cost = PRICE.cost(7, 9); // 0.000007 + 1.111113 / 1000 + 0.000003
        assertThat(cost.scale()).isEqualTo(Credits.SCALE);
        Credits expected = Credits.charged(cost, new BigDecimal("12.345678901").subtract(cost), a.id());
        assertThat(reply.credits()).isEqualTo(expected);

        assertThat(store.claimTurn(c.id(), "m-1", "fp-m-1", T0, LEASE)).isEqualTo(new TurnClaim.Completed(reply,
                "fp-m-1"));
        List<Message> page = store.messages(c.id(), PageRequest.first()).items();
        assertThat(page).hasSize(4);
        assertThat(page.get(3)).isEqualTo(reply);
        assertThat(page.get(1)).isEqualTo(unmetered);
        assertThat(page.get(0).credits()).isEqualTo(Credits.unmetered());
        assertThat(page.get(2).credits()).isEqualTo(Credits.unmetered());
        assertThat(store.recentMessages(c.id(), Long.MAX_VALUE, 10)).first().isEqualTo(reply);
        assertThat(store.account(a.id(), T0).orElseThrow().balance()).isEqualTo(expected.remaining());
    }

    private static Message commit(JdbcConversationStore store, ConversationInfo c, String promptId, TurnCharge charge) {
        String token = ((TurnClaim.Claimed) store.claimTurn(c.id(), promptId, "fp-" + promptId, T0, LEASE)).token();
        Usage usage = new Usage(7, 9);
        Message user = new Message(promptId, c.id(), 0, Role.USER, "question", 1, null, "alice", null,
                MessageStatus.COMPLETE, T0, null);
        Message reply = new Message("r-" + promptId, c.id(), 0, Role.ASSISTANT, "answer", 1, "model", null, null,
                MessageStatus.COMPLETE, T0, usage);
        TurnRecord turn = new TurnRecord(c.id(), promptId, user, reply, usage, true, T0, token);
        return store.commitTurn(charge == null ? turn : turn.withCharge(charge));
    }
}
