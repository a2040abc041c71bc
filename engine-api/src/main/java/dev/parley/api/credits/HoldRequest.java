package dev.parley.api.credits;

import dev.parley.api.internal.Checks;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A turn's request to reserve credits ({@link dev.parley.api.spi.CreditLedger#reserve}): the most it can cost,
 * its counted input tokens and its maximum output tokens at its model's price, on every account of the owners that
 * has one. Immutable and thread safe.
 *
 * @param holdId the new hold's id
 * @param conversationId the turn's conversation
 * @param promptId the turn's message id
 * @param owners who the turn is charged to, in {@link AccountOwner.Kind} order; owners without an account are
 *               skipped
 * @param model the model the turn calls
 * @param inputTokens the request's counted input tokens
 * @param maxOutputTokens the most output tokens the reply may have
 * @param at now
 * @param lease how long the hold lives unless renewed
 */
public record HoldRequest(String holdId, String conversationId, String promptId, List<AccountOwner> owners,
                          String model, long inputTokens, long maxOutputTokens, Instant at, Duration lease) {
    public HoldRequest {
        Checks.id("holdId", holdId);
        Checks.id("conversationId", conversationId);
        Checks.id("promptId", promptId);
        owners = List.copyOf(owners);
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(lease, "lease");
        if (inputTokens < 0 || maxOutputTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative");
        }
        if (lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("lease must be positive");
        }
    }
}
