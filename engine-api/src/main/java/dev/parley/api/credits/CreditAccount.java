package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.internal.Checks;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A credit account as it stood when read. Its balance is the sum of its ledger ({@link LedgerEntry}): top-ups,
 * adjustments and renewals, less the turns charged to it; it never goes below zero. What live turns have reserved
 * and not yet settled is {@code reserved}; a turn may reserve only what is {@link #available()}. Its
 * {@link AccountTerms} say how it renews each period and how much a period may spend; {@code spent} is what turns
 * were charged in the current period (over the account's life when it has no period). Immutable and thread safe.
 *
 * @param id the account's id
 * @param owner whose credits these are
 * @param balance the credits on the account, at {@link Credits#SCALE} decimals
 * @param reserved the credits live turns hold on it now
 * @param createdAt when it was opened
 * @param terms its period, renewal and limit
 * @param spent what turns were charged in the current period, or over the account's life when it has no period
 * @param periodStart when the current period started; null without a period
 * @param periodEnd when the current period ends and the next renewal is due; null without a period
 */
public record CreditAccount(String id, AccountOwner owner, BigDecimal balance, BigDecimal reserved, Instant createdAt,
                            AccountTerms terms, BigDecimal spent, @Nullable Instant periodStart,
                            @Nullable Instant periodEnd) {
    private static final BigDecimal ZERO = BigDecimal.ZERO.setScale(Credits.SCALE);

    public CreditAccount {
        Checks.id("id", id);
        Objects.requireNonNull(owner, "owner");
        balance = Credits.amount("balance", balance);
        reserved = Credits.amount("reserved", reserved);
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(terms, "terms");
        spent = Credits.amount("spent", spent);
        if (balance.signum() < 0 || reserved.signum() < 0 || spent.signum() < 0) {
            throw new IllegalArgumentException("account " + id + " has a negative balance, reservation or spending");
        }
        if (terms.periodic() != (periodStart != null) || terms.periodic() != (periodEnd != null)) {
            throw new IllegalArgumentException("account " + id + " has a current period exactly when it has periods");
        }
    }

    /** A new account of {@link AccountTerms#NONE}, at zero. */
    public static CreditAccount opened(String id, AccountOwner owner, Instant createdAt) {
        return new CreditAccount(id, owner, ZERO, ZERO, createdAt, AccountTerms.NONE, ZERO, null, null);
    }

    /** The account with live turns reserving {@code held} on it. */
    public CreditAccount withReserved(BigDecimal held) {
        return new CreditAccount(id, owner, balance, held, createdAt, terms, spent, periodStart, periodEnd);
    }

    /**
     * What a new turn may still reserve: the balance less the live reservations, and under a
     * {@linkplain SpendLimit.Kind#HARD hard} limit no more than the limit less what the period spent and reserved; at
     * least zero.
     */
    public BigDecimal available() {
        BigDecimal free = balance.subtract(reserved);
        SpendLimit limit = terms.limit();
        if (limit != null && limit.hard()) {
            free = free.min(limit.amount().subtract(spent).subtract(reserved));
        }
        return free.signum() < 0 ? ZERO : free;
    }

    /** Whether the period's spending has reached its limit, hard or soft. */
    public boolean limitReached() {
        SpendLimit limit = terms.limit();
        return limit != null && spent.compareTo(limit.amount()) >= 0;
    }

    /**
     * Whether a turn reserving {@code amount} reaches the account's soft limit: what the period spent, what live turns
     * reserve and the amount together are at least the limit.
     */
    public boolean softLimitReachedBy(BigDecimal amount) {
        SpendLimit limit = terms.limit();
        return limit != null && !limit.hard()
                && spent.add(reserved).add(amount).compareTo(limit.amount()) >= 0;
    }

    /** Whether a renewal is due at {@code at}: the account has periods and the current one has ended. */
    public boolean renewalDue(Instant at) {
        return periodEnd != null && !at.isBefore(periodEnd);
    }

    /**
     * The account as the renewal due at {@code at} leaves it: in the period containing {@code at}, with nothing spent
     * yet, and the balance {@linkplain AccountTerms#renewedBalance renewed} for every period that started; itself
     * when no renewal is due. The difference of the balances is the renewal's ledger entry.
     */
    public CreditAccount renewed(Instant at) {
        if (!renewalDue(at)) {
            return this;
        }
        CreditPeriod period = Objects.requireNonNull(terms.period());
        long periods = period.index(at) - period.index(periodStart);
        BigDecimal renewedBalance = terms.renewedBalance(balance, reserved, Math.max(1, periods));
        return new CreditAccount(id, owner, renewedBalance, reserved, createdAt, terms, ZERO, period.startOf(at),
                period.endOf(at));
    }

    /**
     * Where the ledger's charges must be summed from for the spending under {@code newTerms} set at {@code at}:
     * empty when the periods are the same as now, whose current period and its spending carry over; the start of
     * the new period otherwise (the period containing {@code at}, or the current period's start if that is later:
     * a period never moves back); the account's opening without periods (its whole life).
     */
    public java.util.Optional<Instant> spendingCountedFrom(AccountTerms newTerms, Instant at) {
        CreditPeriod period = newTerms.period();
        if (Objects.equals(period, terms.period())) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(period == null ? createdAt : period.startOf(notBeforePeriod(at)));
    }

    /**
     * The account under new terms from {@code at}, its balance unchanged. With the same periods as now, the current
     * period and its spending carry over and {@code spentSince} is ignored; otherwise periodic terms start the
     * period containing {@code at} (never one before the current period's start), whose spending so far is
     * {@code spentSince}, which the caller reads from the ledger ({@link #spendingCountedFrom}).
     */
    public CreditAccount withTerms(AccountTerms newTerms, BigDecimal spentSince, Instant at) {
        CreditPeriod period = newTerms.period();
        if (Objects.equals(period, terms.period())) {
            return new CreditAccount(id, owner, balance, reserved, createdAt, newTerms, spent, periodStart, periodEnd);
        }
        Instant from = notBeforePeriod(at);
        return new CreditAccount(id, owner, balance, reserved, createdAt, newTerms, spentSince,
                period == null ? null : period.startOf(from), period == null ? null : period.endOf(from));
    }

    /**
     * {@code at}, or the current period's start when that is later: what an engine whose clock is behind does to
     * the account happens in the current period, never in one before it.
     */
    public Instant notBeforePeriod(Instant at) {
        return periodStart != null && periodStart.isAfter(at) ? periodStart : at;
    }
}
