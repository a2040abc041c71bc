package dev.parley.api.values;

import dev.parley.api.Message;
import dev.parley.api.Role;

import java.util.Objects;

/**
 * What building a turn's context needs of a stored message: its place, who wrote it, its text and its token
 * count. Immutable and thread safe; {@link #toString()} leaves the text out.
 *
 * @param sequence its position in the conversation, from 1
 * @param role who wrote it
 * @param text its text as stored
 * @param tokens its token count, counted when it was stored
 */
public record HistoryMessage(long sequence, Role role, String text, int tokens) {

    public HistoryMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must not be negative: " + tokens);
        }
    }

    /** The part of a stored message that context needs. */
    public static HistoryMessage of(Message m) {
        return new HistoryMessage(m.sequence(), m.role(), m.text(), m.tokens());
    }

    @Override
    public String toString() {
        return "HistoryMessage{" + sequence + ", " + role + ", " + text.length() + " chars, " + tokens + " tokens}";
    }
}
