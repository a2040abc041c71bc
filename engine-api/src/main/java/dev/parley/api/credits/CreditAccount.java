package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.internal.Checks;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

/**
 * A credit account as it stood when read. Its balance is the sum of its ledger ({@link LedgerEntry}): top-ups and
 * adjustments a host made, less the turns charged to it; it never goes below zero. What live turns have reserved
 * and not yet settled is {@code reserved}; a turn may reserve only what is {@link #available()}. Immutable and
 * thread safe.
 *
 * @param id the account's id
 * @param owner whose credits these are
 * @param balance the credits on the account, at {@link Credits#SCALE} decimals
 * @param reserved the credits live turns hold on it now
 * @param createdAt when it was opened
 */
public record CreditAccount(String id, AccountOwner owner, BigDecimal balance, BigDecimal reserved, Instant createdAt) {
    public CreditAccount {
        Checks.id("id", id);
        Objects.requireNonNull(owner, "owner");
        balance = Credits.amount("balance", balance);
        reserved = Credits.amount("reserved", reserved);
        Objects.requireNonNull(createdAt, "createdAt");
        if (balance.signum() < 0 || reserved.signum() < 0) {
            throw new IllegalArgumentException("account " + id + " has a negative balance or reservation");
        }
    }

    /** What a new turn may still reserve: the balance less the live reservations, at least zero. */
    public BigDecimal available() {
        BigDecimal free = balance.subtract(reserved);
        return free.signum() < 0 ? BigDecimal.ZERO.setScale(Credits.SCALE) : free;
    }
}
