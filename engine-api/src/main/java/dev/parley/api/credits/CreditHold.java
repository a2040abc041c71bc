package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.internal.Checks;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What a turn reserved before its model call: the same amount on each of its accounts, at the price of its
 * model when it was reserved, until {@code expiresAt} unless renewed. The turn's commit settles it
 * ({@link TurnCharge}); a turn that stores nothing releases it; one whose engine died leaves it to expire.
 * A hold with no accounts is a turn no account applies to: it reserved nothing and is not metered. Immutable
 * and thread safe.
 *
 * @param id the hold's id
 * @param accountIds the accounts it holds credits on, in {@link AccountOwner.Kind} order; empty when unmetered
 * @param amount what it holds on each, at {@link Credits#SCALE} decimals
 * @param model the model the turn is for
 * @param price that model's price when reserved: what the turn is charged at
 * @param expiresAt when it lapses unless renewed
 * @param softLimitReached the accounts whose {@linkplain SpendLimit.Kind#SOFT soft limit} this turn reaches: what
 *                         their period spent and reserved, with this hold, is at least the limit
 */
public record CreditHold(String id, List<String> accountIds, BigDecimal amount, String model, ModelPrice price,
                         Instant expiresAt, List<String> softLimitReached) {
    public CreditHold {
        softLimitReached = List.copyOf(softLimitReached);
        Checks.id("id", id);
        accountIds = List.copyOf(accountIds);
        amount = Credits.amount("amount", amount);
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(price, "price");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (amount.signum() < 0) {
            throw new IllegalArgumentException("a hold is never negative");
        }
    }

    /** A hold that reaches no soft limit. */
    public CreditHold(String id, List<String> accountIds, BigDecimal amount, String model, ModelPrice price,
                      Instant expiresAt) {
        this(id, accountIds, amount, model, price, expiresAt, List.of());
    }

    /** Whether any account applies: the turn is charged. */
    public boolean metered() {
        return !accountIds.isEmpty();
    }
}
