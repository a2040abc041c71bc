package dev.parley.policy.internal;

/**
 * A span of a text with what a detector says it is.
 *
 * @param start the first character
 * @param end one past the last
 * @param label a short description for a finding's reason, never the text
 */
public record Span(int start, int end, String label) {
    public Span {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("span must have 0 <= start <= end: " + start + ", " + end);
        }
    }

    /** Whether this span shares a character with {@code [otherStart, otherEnd)}. */
    public boolean overlaps(int otherStart, int otherEnd) {
        return start < otherEnd && otherStart < end;
    }
}
