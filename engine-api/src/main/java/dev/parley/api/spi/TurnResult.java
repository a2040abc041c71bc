package dev.parley.api.spi;

import dev.parley.api.MessageStatus;
import dev.parley.api.Usage;

import java.time.Instant;
import java.util.Objects;

/**
 * What a turn produced, as it travels back up the pipeline. The provider call creates it with the model's text
 * and reported usage; the accounting stage settles tokens; the persist stage adds the stored reply's id and
 * time. Immutable and thread safe.
 *
 * <p>It carries the {@link Turn} the answer was produced for: the turn as the innermost stage saw it, with the
 * request and token counts the context stage derived. Stages on the way out read those from here, since the
 * turn they received themselves was derived before the inner stages ran.
 *
 * @param turn the turn the answer was produced for
 * @param text the reply as the model wrote it
 * @param model the model that answered
 * @param reportedUsage the usage the provider reported, or null
 * @param usage the turn's settled usage; null before the accounting stage
 * @param replyTokens the reply's own token count; -1 before the accounting stage
 * @param status how the reply ended
 * @param replayed true when the reply was read from the store instead of produced by a model call
 * @param messageId the stored reply's id; null before the persist stage
 * @param createdAt the stored reply's time; null before the persist stage
 */
public record TurnResult(
        Turn turn,
        String text,
        String model,
        Usage reportedUsage,
        Usage usage,
        int replyTokens,
        MessageStatus status,
        boolean replayed,
        String messageId,
        Instant createdAt) {

    public TurnResult {
        Objects.requireNonNull(turn, "turn");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(status, "status");
    }

    /** A fresh answer to {@code turn} by its model, with the usage the provider reported (or null). */
    public static TurnResult fromModel(Turn turn, String text, Usage reportedUsage) {
        return new TurnResult(turn, text, turn.model(), reportedUsage, null, -1, MessageStatus.COMPLETE, false, null,
                null);
    }

    /** The part of an answer to {@code turn} that had streamed when the stream was cancelled. */
    public static TurnResult cancelled(Turn turn, String partialText) {
        return new TurnResult(turn, partialText, turn.model(), null, null, -1, MessageStatus.CANCELLED, false, null,
                null);
    }

    public TurnResult withUsage(Usage settled, int tokens) {
        return new TurnResult(turn, text, model, reportedUsage, settled, tokens, status, replayed, messageId, createdAt);
    }

    public TurnResult withStored(String id, Instant at) {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, replayed, id, at);
    }

    public TurnResult asReplayed() {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, true, messageId, createdAt);
    }

    public TurnResult withText(String newText) {
        return new TurnResult(turn, newText, model, reportedUsage, usage, replyTokens, status, replayed, messageId, createdAt);
    }

    @Override
    public String toString() {
        return "TurnResult{chars=" + text.length() + ", model=" + model + ", usage=" + usage + ", status=" + status
                + ", replayed=" + replayed + ", messageId=" + messageId + "}";
    }
}
