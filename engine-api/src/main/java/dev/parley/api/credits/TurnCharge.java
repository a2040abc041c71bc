package dev.parley.api.credits;

import dev.parley.api.Credits;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * What a turn's commit charges ({@link dev.parley.api.values.TurnRecord#charge()}): its real cost at its hold's
 * price, for the tokens it used. The store charges it, in the turn's own transaction, to each account of the hold:
 * the cost, but never more than the account can pay without going below zero or taking what other live turns
 * reserved (a provider that counts more input tokens than the estimate can make the cost exceed the hold); it
 * frees the hold, and keeps the resulting {@link Credits} with the reply. Immutable and thread safe.
 *
 * @param hold the turn's hold
 * @param tokensIn the input tokens charged for
 * @param tokensOut the output tokens charged for
 */
public record TurnCharge(CreditHold hold, long tokensIn, long tokensOut) {
    public TurnCharge {
        Objects.requireNonNull(hold, "hold");
        if (tokensIn < 0 || tokensOut < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
    }

    /** The real cost: the tokens at the hold's price, at {@link Credits#SCALE} decimals. */
    public BigDecimal cost() {
        return hold.price().cost(tokensIn, tokensOut);
    }
}
