package dev.parley.api.retention;

/**
 * What a purge or an erasure removed: counts, never content. Immutable and thread safe.
 *
 * @param conversations conversations hard-deleted, with everything stored in them
 * @param messages messages hard-deleted with those conversations
 * @param messagesErased messages of other conversations whose text and tags an erasure removed (their number,
 *                       role, token count, status and time stay, so that the conversation's numbering does)
 */
public record PurgeReport(long conversations, long messages, long messagesErased) {
    public PurgeReport {
        if (conversations < 0 || messages < 0 || messagesErased < 0) {
            throw new IllegalArgumentException("counts must not be negative");
        }
    }

    /** Nothing removed. */
    public static final PurgeReport NONE = new PurgeReport(0, 0, 0);

    /** This report and {@code other} added up. */
    public PurgeReport plus(PurgeReport other) {
        return new PurgeReport(conversations + other.conversations, messages + other.messages,
                messagesErased + other.messagesErased);
    }
}
