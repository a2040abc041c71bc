package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;

import java.math.BigDecimal;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * How a credit account renews and how much of it may be spent: an optional {@link CreditPeriod}, what happens to
 * the balance when a period starts ({@link Renewal}, with its allowance), and an optional {@link SpendLimit} per
 * period (or over the account's life, without a period). An account opens with {@link #NONE}: no period, no
 * limit, the balance is all there is. Immutable and thread safe.
 *
 * <pre>{@code
 * AccountTerms.every(CreditPeriod.monthly()).resetTo("1000")            // 1,000 a month, unused credits expire
 * AccountTerms.every(CreditPeriod.monthly()).topUp("1000")              // 1,000 a month, unused credits roll over
 * AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.hard("300")) // prepaid, at most 300 a month
 * AccountTerms.NONE.limit(SpendLimit.soft("50"))                        // report every turn once 50 are spent
 * }</pre>
 *
 * <p><b>Renewal.</b> The first operation on an account at or after its period's end (a read, a top-up, a turn's
 * reservation or charge) starts the current period: it writes the renewal as a {@link LedgerEntry.Kind#RENEWAL}
 * entry, so that the balance still equals the sum of the ledger, and the period's spending starts again at zero.
 * Setting terms never changes the balance: the first period's credits are a top-up of the host's. Setting the
 * periods an account has already keeps its current period and spending; a period never moves back, so an engine
 * whose clock is behind cannot start a period that was renewed again. A turn's cost counts in the period it is
 * charged in, and its charge is stamped no earlier than that period's start. Reservations read the system clock
 * (as leases do); keep engines' clocks on it.
 *
 * @param period the account's periods; null for none
 * @param renewal what a new period does to the balance
 * @param allowance the credits a {@link Renewal#RESET} or {@link Renewal#TOP_UP} renewal grants; null for
 *                  {@link Renewal#KEEP}
 * @param limit the most a period may spend; null for no limit. A turn is charged the same amount on each of its
 *              accounts, so a hard limit on one (a user's, say) also caps what the others are charged for that turn
 */
public record AccountTerms(@Nullable CreditPeriod period, Renewal renewal, @Nullable BigDecimal allowance,
                           @Nullable SpendLimit limit) {
    /** The largest allowance or limit: far above any balance, small enough for every store's columns. */
    public static final BigDecimal MAX_CREDITS = new BigDecimal("1000000000000");

    /** No period and no limit. */
    public static final AccountTerms NONE = new AccountTerms(null, Renewal.KEEP, null, null);

    /** What the start of a period does to an account's balance. */
    public enum Renewal {
        /** Nothing: the balance carries over; only the period's spending starts again. */
        KEEP,
        /**
         * The balance becomes the allowance: unused credits expire. Credits that live turns hold at that moment are
         * kept for them, on top of the allowance, so that no turn in flight is left unable to pay; what such a turn
         * does not spend stays on the balance.
         */
        RESET,
        /** The allowance is added to what is left, once for each period that started. */
        TOP_UP
    }

    /**
     * @throws InvalidRequestException naming {@code period} when a renewal that grants credits has no period, or
     *                                 {@code allowance} when such a renewal has none, it is not positive, has more
     *                                 than {@link Credits#SCALE} decimals, or {@link Renewal#KEEP} is given one
     */
    public AccountTerms {
        Objects.requireNonNull(renewal, "renewal");
        if (renewal == Renewal.KEEP) {
            if (allowance != null) {
                throw new InvalidRequestException("allowance", "applies only to a renewal that resets or tops up");
            }
        } else {
            if (period == null) {
                throw new InvalidRequestException("period", "is required for a renewal that grants credits");
            }
            if (allowance == null) {
                throw new InvalidRequestException("allowance", "is required for a renewal that grants credits");
            }
            if (allowance.signum() <= 0) {
                throw new InvalidRequestException("allowance", "must be positive");
            }
            if (allowance.compareTo(MAX_CREDITS) > 0) {
                throw new InvalidRequestException("allowance", "must be at most " + MAX_CREDITS.toPlainString());
            }
            try {
                allowance = Credits.amount("allowance", allowance);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("allowance", "must have at most " + Credits.SCALE + " decimals");
            }
        }
    }

    /** Periods of {@code period}, the balance carried over, no limit. */
    public static AccountTerms every(CreditPeriod period) {
        return new AccountTerms(Objects.requireNonNull(period, "period"), Renewal.KEEP, null, null);
    }

    /** These terms with the balance reset to {@code amount} credits (a decimal, {@code "1000"}) each period. */
    public AccountTerms resetTo(String amount) {
        return new AccountTerms(period, Renewal.RESET, decimal(amount), limit);
    }

    /** These terms with {@code amount} credits added each period. */
    public AccountTerms topUp(String amount) {
        return new AccountTerms(period, Renewal.TOP_UP, decimal(amount), limit);
    }

    /** These terms with a spending limit per period. */
    public AccountTerms limit(SpendLimit spendLimit) {
        return new AccountTerms(period, renewal, allowance, Objects.requireNonNull(spendLimit, "limit"));
    }

    /** These terms without a spending limit. */
    public AccountTerms noLimit() {
        return new AccountTerms(period, renewal, allowance, null);
    }

    /** Whether the account has periods. */
    public boolean periodic() {
        return period != null;
    }

    /**
     * The balance of an account when {@code periods} new periods have started since its last renewal (at least one):
     * the same for {@link Renewal#KEEP}; the allowance plus what live holds keep of the old balance ({@code held},
     * at most the balance) for {@link Renewal#RESET}; the balance plus {@code periods} allowances for
     * {@link Renewal#TOP_UP}.
     */
    public BigDecimal renewedBalance(BigDecimal balance, BigDecimal held, long periods) {
        Objects.requireNonNull(balance, "balance");
        Objects.requireNonNull(held, "held");
        if (periods < 1) {
            throw new IllegalArgumentException("periods must be at least 1: " + periods);
        }
        return switch (renewal) {
            case KEEP -> balance;
            case RESET -> allowance.add(held.min(balance).max(BigDecimal.ZERO));
            case TOP_UP -> balance.add(allowance.multiply(BigDecimal.valueOf(periods)));
        };
    }

    private static BigDecimal decimal(String amount) {
        if (amount == null || amount.isBlank()) {
            throw new InvalidRequestException("allowance", "is required");
        }
        if (amount.length() > 40 || !amount.strip().matches("[+-]?[0-9]+(\\.[0-9]+)?")) {
            throw new InvalidRequestException("allowance", "must be a decimal number such as 1000");
        }
        return new BigDecimal(amount.strip());
    }
}
