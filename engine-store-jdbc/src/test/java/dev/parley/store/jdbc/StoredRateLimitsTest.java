package dev.parley.store.jdbc;

import dev.parley.api.values.RateWindow;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The store's rate-limit counters as {@link dev.parley.core.internal.MemoryRateLimits} keeps them, on both
 * databases: an admission is all or none and names the first refusing key in the given order, a new window starts
 * afresh, tokens count against the token limit, and a counter whose window is newer than the one asked about is
 * never moved back.
 */
class StoredRateLimitsTest {
    private static final Instant MINUTE = Instant.parse("2026-06-01T12:00:00Z");
    private static final Instant NEXT = MINUTE.plusSeconds(60);

    @Test
    void countersKeepTheLedgersContractOnH2() {
        try (JdbcConversationStore store = TestDatabases.h2()) {
            contract(store);
        }
    }

    @Test
    void countersKeepTheLedgersContractOnPostgres() {
        try (JdbcConversationStore store = TestDatabases.postgres()) {
            contract(store);
        }
    }

    private static void contract(JdbcConversationStore store) {
        String p = "k-" + UUID.randomUUID() + ":";
        RateWindow caller = new RateWindow(p + "caller", 2, 0);
        RateWindow workspace = new RateWindow(p + "workspace", 3, 0);
        assertThat(store.admit(List.of(caller, workspace), MINUTE)).isEmpty();
        assertThat(store.admit(List.of(caller, workspace), MINUTE)).isEmpty();
        // The caller is used up; the workspace, refused with it, counts nothing: all or none.
        assertThat(store.admit(List.of(workspace, caller), MINUTE)).contains(caller.key());
        RateWindow other = new RateWindow(p + "other", 0, 0);
        assertThat(store.admit(List.of(other, workspace), MINUTE)).isEmpty();
        // Both used up: the first of the given order is named, whatever the order the store locks them in.
        RateWindow z = new RateWindow(p + "zz", 1, 0);
        RateWindow a = new RateWindow(p + "aa", 1, 0);
        assertThat(store.admit(List.of(z, a), MINUTE)).isEmpty();
        assertThat(store.admit(List.of(z, a), MINUTE)).contains(z.key());
        assertThat(store.admit(List.of(a, z), MINUTE)).contains(a.key());
        assertThat(store.admit(List.of(workspace), MINUTE)).contains(workspace.key());

        // The next minute starts afresh.
        assertThat(store.admit(List.of(caller, workspace), NEXT)).isEmpty();
        assertThat(store.admit(List.of(caller, workspace), NEXT)).isEmpty();
        assertThat(store.admit(List.of(caller), NEXT)).contains(caller.key());
        // An engine whose clock is behind counts in the newer window, which it does not move back.
        assertThat(store.admit(List.of(caller), MINUTE)).contains(caller.key());

        // Tokens: counted once a turn is stored; the limit refuses the next request once reached.
        RateWindow tokens = new RateWindow(p + "tokens", 0, 100);
        assertThat(store.admit(List.of(tokens), MINUTE)).isEmpty();
        store.addTokens(List.of(tokens.key()), 60, MINUTE);
        assertThat(store.admit(List.of(tokens), MINUTE)).isEmpty();
        store.addTokens(List.of(tokens.key(), p + "new"), 40, MINUTE);
        assertThat(store.admit(List.of(tokens), MINUTE)).contains(tokens.key());
        assertThat(store.admit(List.of(new RateWindow(p + "new", 0, 40)), MINUTE)).contains(p + "new");
        // Tokens of a new window start its counter there, at zero requests and those tokens.
        store.addTokens(List.of(tokens.key()), 99, NEXT);
        assertThat(store.admit(List.of(new RateWindow(tokens.key(), 1, 100)), NEXT)).isEmpty();
        assertThat(store.admit(List.of(new RateWindow(tokens.key(), 1, 100)), NEXT)).contains(tokens.key());
        store.addTokens(List.of(tokens.key()), 1, NEXT);
        assertThat(store.admit(List.of(tokens), NEXT)).contains(tokens.key());

        assertThat(store.admit(List.of(), MINUTE)).isEqualTo(Optional.empty());
    }
}
