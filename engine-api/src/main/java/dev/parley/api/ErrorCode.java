package dev.parley.api;

/**
 * The stable code of every {@link ParleyException}. Codes never change meaning between releases, so a
 * host may map them to its own protocol (the HTTP sample maps each to one status).
 */
public enum ErrorCode {
    /** The conversation, repository or other resource does not exist, or is deleted. */
    NOT_FOUND,
    /** The caller may not do this. */
    FORBIDDEN,
    /** A field of the request is missing, malformed or out of range; {@link InvalidRequestException#field()} names it. */
    INVALID_REQUEST,
    /** Another stream is active on the conversation. */
    CONVERSATION_LOCKED,
    /** A policy refused the prompt or the reply. */
    POLICY_BLOCKED,
    /** The account has no credits left for this turn. */
    BUDGET_EXCEEDED,
    /**
     * A rate limit refused the request: too many requests or tokens in the current minute for the caller, the
     * workspace or the organization; {@link RateLimitedException#retryAfter()} says when to try again.
     */
    RATE_LIMITED,
    /** The model could not answer: it timed out, refused, or failed. */
    MODEL_UNAVAILABLE,
    /** The conversation store failed; the cause is attached. */
    STORE_FAILURE
}
