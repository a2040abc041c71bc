package dev.parley.api;

/** How a stored message ended. */
public enum MessageStatus {
    /** The message is whole. */
    COMPLETE,
    /** A streamed reply cancelled part way; the text is what had arrived. */
    CANCELLED,
    /** A reply that failed part way. */
    FAILED
}
