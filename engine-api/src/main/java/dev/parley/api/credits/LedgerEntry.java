package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.internal.Checks;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * One change of an account's balance, never rewritten: the balance is always the sum of the account's entries.
 * A {@link Kind#CHARGE} is a turn's cost and carries the turn (conversation and message id), the model, the price
 * it was charged at and the tokens it was charged for, so that a later change of price rewrites no history.
 * Immutable and thread safe.
 *
 * @param id the entry's id
 * @param accountId the account
 * @param kind what changed the balance
 * @param amount the change: positive for a top-up, negative for a charge, either sign for an adjustment; at
 *               {@link Credits#SCALE} decimals
 * @param balanceAfter the account's balance right after this entry
 * @param reason why: the host's words for a top-up or adjustment, {@code "turn"} for a charge, {@code "renewal"}
 *               for a renewal
 * @param at when
 * @param conversationId for a charge, the turn's conversation; null when an erasure removed the link
 * @param messageId for a charge, the turn's message id (its prompt's); null when an erasure removed the link
 * @param model for a charge, the model that answered
 * @param price for a charge, the price applied
 * @param tokensIn for a charge, the input tokens charged for
 * @param tokensOut for a charge, the output tokens charged for
 */
public record LedgerEntry(String id, String accountId, Kind kind, BigDecimal amount, BigDecimal balanceAfter,
                          String reason, Instant at, @Nullable String conversationId, @Nullable String messageId,
                          @Nullable String model, @Nullable ModelPrice price, long tokensIn, long tokensOut) {
    /** The longest reason kept. */
    public static final int MAX_REASON_LENGTH = 256;

    /** What changed a balance. */
    public enum Kind {
        /** Credits a host added. */
        TOP_UP,
        /** A correction a host made, up or down. */
        ADJUSTMENT,
        /** A turn's cost. */
        CHARGE,
        /** The start of an account's period: the change its {@link AccountTerms.Renewal} made, reason {@code "renewal"}. */
        RENEWAL
    }

    public LedgerEntry {
        Checks.id("id", id);
        Checks.id("accountId", accountId);
        Objects.requireNonNull(kind, "kind");
        amount = Credits.amount("amount", amount);
        balanceAfter = Credits.amount("balanceAfter", balanceAfter);
        Checks.label("reason", reason, MAX_REASON_LENGTH);
        Objects.requireNonNull(at, "at");
        if (balanceAfter.signum() < 0) {
            throw new IllegalArgumentException("a balance never goes below zero: entry " + id);
        }
        if (kind == Kind.CHARGE && ((conversationId == null) != (messageId == null) || model == null || price == null)) {
            throw new IllegalArgumentException("a charge names its turn (or, once erased, neither conversation nor "
                    + "message), model and price: entry " + id);
        }
        if (tokensIn < 0 || tokensOut < 0) {
            throw new IllegalArgumentException("token counts must not be negative: entry " + id);
        }
    }

    @Override
    public String toString() {
        return "LedgerEntry{id=" + id + ", accountId=" + accountId + ", kind=" + kind + ", amount="
                + amount.toPlainString() + ", balanceAfter=" + balanceAfter.toPlainString() + ", at=" + at + "}";
    }
}
