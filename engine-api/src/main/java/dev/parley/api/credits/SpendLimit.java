package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * The most credits an account may spend on turns in one of its periods ({@link AccountTerms}), or over its life when
 * it has no period. A {@link Kind#HARD} limit refuses a turn whose reservation would take the period's spending past
 * it, with {@link dev.parley.api.BudgetExceededException}, as a balance that runs out does; a {@link Kind#SOFT} limit
 * refuses nothing and reports every turn that reaches it ({@link CreditHold#softLimitReached()},
 * {@link dev.parley.api.spi.EngineListener#softLimitReached}). Top-ups and adjustments are not spending. Immutable
 * and thread safe.
 *
 * @param amount the limit, positive, at most {@link AccountTerms#MAX_CREDITS}, at most {@link Credits#SCALE} decimals
 * @param kind whether reaching it refuses turns
 */
public record SpendLimit(BigDecimal amount, Kind kind) {
    /** What reaching a limit does. */
    public enum Kind {
        /** Turns that would spend past the limit are refused before their model call. */
        HARD,
        /** Turns go on; each one that reaches the limit is reported. */
        SOFT
    }

    /**
     * @throws InvalidRequestException naming {@code limit} when the amount is missing, not positive or has more than
     *                                 {@link Credits#SCALE} decimals
     */
    public SpendLimit {
        Objects.requireNonNull(kind, "kind");
        if (amount == null) {
            throw new InvalidRequestException("limit", "is required");
        }
        if (amount.signum() <= 0) {
            throw new InvalidRequestException("limit", "must be positive");
        }
        if (amount.compareTo(AccountTerms.MAX_CREDITS) > 0) {
            throw new InvalidRequestException("limit", "must be at most " + AccountTerms.MAX_CREDITS.toPlainString());
        }
        try {
            amount = Credits.amount("limit", amount);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("limit", "must have at most " + Credits.SCALE + " decimals");
        }
    }

    /** A limit that refuses turns past {@code amount} credits, written as a decimal ({@code "500"}). */
    public static SpendLimit hard(String amount) {
        return new SpendLimit(decimal(amount), Kind.HARD);
    }

    /** A limit that reports turns from {@code amount} credits on, written as a decimal. */
    public static SpendLimit soft(String amount) {
        return new SpendLimit(decimal(amount), Kind.SOFT);
    }

    /** Whether reaching it refuses turns. */
    public boolean hard() {
        return kind == Kind.HARD;
    }

    static BigDecimal decimal(String amount) {
        if (amount == null || amount.isBlank()) {
            throw new InvalidRequestException("limit", "is required");
        }
        if (amount.length() > 40 || !amount.strip().matches("[+-]?[0-9]+(\\.[0-9]+)?")) {
            throw new InvalidRequestException("limit", "must be a decimal number such as 500 or 12.5");
        }
        return new BigDecimal(amount.strip());
    }

    @Override
    public String toString() {
        return kind + " " + amount.stripTrailingZeros().toPlainString();
    }
}
