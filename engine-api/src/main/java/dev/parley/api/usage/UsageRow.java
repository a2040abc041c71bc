package dev.parley.api.usage;

import dev.parley.api.Credits;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Objects;

/**
 * The usage of one day and one key (a conversation id, user id, workspace id or model name, as the query groups).
 * Immutable and thread safe.
 *
 * @param day the day, UTC
 * @param key what the row is of
 * @param requests how many turns were settled: the stored ones, and those a policy blocked (which store no message;
 *                 a blocked prompt's own tokens count in {@code promptTokens}, and the model's, if it was called, in
 *                 {@code tokensIn} and {@code tokensOut})
 * @param promptTokens the stored user messages' own tokens
 * @param tokensIn the model requests' input tokens: what the provider bills
 * @param tokensOut the replies' tokens
 * @param credits the credits charged, at {@link Credits#SCALE} decimals (zero for unmetered turns)
 */
public record UsageRow(LocalDate day, String key, long requests, long promptTokens, long tokensIn, long tokensOut,
                       BigDecimal credits) {
    public UsageRow {
        Objects.requireNonNull(day, "day");
        Objects.requireNonNull(key, "key");
        credits = Credits.amount("credits", credits);
    }
}
