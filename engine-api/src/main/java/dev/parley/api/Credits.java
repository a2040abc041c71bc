package dev.parley.api;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Credits a turn cost and what is left afterwards on the tightest account it was charged to. An engine whose
 * store keeps no credit accounts, or a turn no account applies to, reports {@link #unmetered()}: {@code metered()}
 * is false and both amounts are zero. A replayed reply carries the charge of the turn it replays, as stored with
 * it: a replay is never charged again. Amounts are exact decimals at {@link #SCALE} places. Immutable and thread
 * safe.
 *
 * @param metered whether an account was charged for the turn
 * @param used credits the turn cost, at {@link #SCALE} decimals
 * @param remaining the smallest balance left, after the charge, among the accounts the turn was charged to
 * @param accountId that account's id; null when unmetered
 */
public record Credits(boolean metered, BigDecimal used, BigDecimal remaining, @Nullable String accountId) {
    /**
     * The decimals every amount of credits is kept at: enough for a price of {@link dev.parley.api.credits.ModelPrice#MAX_DECIMALS}
     * decimals per 1,000 tokens applied to a single token.
     */
    public static final int SCALE = 9;

    private static final Credits UNMETERED = new Credits(false, BigDecimal.ZERO, BigDecimal.ZERO, null);

    /**
     * @throws IllegalArgumentException when an amount is negative or has more than {@link #SCALE} decimals, or a
     *                                  metered charge names no account
     */
    public Credits {
        used = amount("used", used);
        remaining = amount("remaining", remaining);
        if (used.signum() < 0 || remaining.signum() < 0) {
            throw new IllegalArgumentException("credits must not be negative: " + used + ", " + remaining);
        }
        if (metered && accountId == null) {
            throw new IllegalArgumentException("a metered charge names its tightest account");
        }
    }

    /** A charge of {@code used} that left {@code remaining} on the tightest account, {@code accountId}. */
    public static Credits charged(BigDecimal used, BigDecimal remaining, String accountId) {
        return new Credits(true, used, remaining, Objects.requireNonNull(accountId, "accountId"));
    }

    /** No account was charged. */
    public static Credits unmetered() {
        return UNMETERED;
    }

    /** The tightest account's id, when metered. */
    public Optional<String> account() {
        return Optional.ofNullable(accountId);
    }

    /**
     * An amount of credits at {@link #SCALE} decimals, exactly.
     *
     * @throws IllegalArgumentException naming {@code field} when the amount has more decimals than that
     */
    public static BigDecimal amount(String field, BigDecimal value) {
        Objects.requireNonNull(value, field);
        try {
            return value.setScale(SCALE, RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(field + " has more than " + SCALE + " decimals");
        }
    }
}
