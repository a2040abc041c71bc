package dev.parley.api.compaction;

import dev.parley.api.Credits;
import dev.parley.api.Usage;
import dev.parley.api.internal.Checks;

import java.time.Instant;
import java.util.Objects;

/**
 * A stored summary of the start of a conversation's history, written by compaction: it stands in for messages
 * {@code fromSequence} to {@code toSequence} when they no longer fit a turn's context. The messages themselves stay
 * stored and listed. Each summary covers the history from its first message ({@code fromSequence} is 1): a later
 * summary is written from the one before it and the messages after, so the latest one is all a turn needs.
 * Immutable and thread safe; {@link #toString()} leaves the text out.
 *
 * @param id the summary's id
 * @param conversationId its conversation
 * @param fromSequence the sequence of the first message it covers (1)
 * @param toSequence the sequence of the last message it covers; the last of a whole turn
 * @param text the summary, as stored (after the POST policies)
 * @param tokens its token count, as a turn's context counts it
 * @param model the registered name of the model that wrote it
 * @param usage the tokens the summarizer's call used
 * @param credits what that call was charged
 * @param createdAt when it was stored
 */
public record Summary(String id, String conversationId, long fromSequence, long toSequence, String text, int tokens,
                      String model, Usage usage, Credits credits, Instant createdAt) {

    public Summary {
        Checks.id("id", id);
        Checks.id("conversationId", conversationId);
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(credits, "credits");
        Objects.requireNonNull(createdAt, "createdAt");
        if (fromSequence < 1 || toSequence < fromSequence) {
            throw new IllegalArgumentException("a summary covers messages " + fromSequence + " to " + toSequence
                    + ": it must cover at least one, from 1");
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must not be negative: " + tokens);
        }
    }

    /** The same summary with what its call was charged. */
    public Summary withCredits(Credits charged) {
        return new Summary(id, conversationId, fromSequence, toSequence, text, tokens, model, usage, charged,
                createdAt);
    }

    @Override
    public String toString() {
        return "Summary{" + id + ", conversation " + conversationId + ", messages " + fromSequence + ".." + toSequence
                + ", " + text.length() + " chars, " + tokens + " tokens, model " + model + "}";
    }
}
