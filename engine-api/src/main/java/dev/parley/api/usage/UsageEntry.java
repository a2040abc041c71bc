package dev.parley.api.usage;

import dev.parley.api.internal.Checks;

/**
 * What a settled turn (stored, or blocked by a policy) adds to the usage ledger beyond its record: who sent it, the
 * model that answered, and the user message's own token count ({@link dev.parley.api.values.TurnRecord#meter()}). The store adds the
 * conversation's organization and workspace, the turn's day (UTC), its usage and its charge. Immutable and thread
 * safe.
 *
 * @param userId the caller who sent the turn
 * @param model the model that answered (for a turn blocked before the call, the model it was for)
 * @param promptTokens the stored user message's own token count
 */
public record UsageEntry(String userId, String model, long promptTokens) {
    public UsageEntry {
        Checks.id("userId", userId);
        Checks.label("model", model, 256);
        if (promptTokens < 0) {
            throw new IllegalArgumentException("promptTokens must not be negative");
        }
    }
}
