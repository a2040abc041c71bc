package dev.parley.api;

import java.time.Duration;
import java.util.Objects;

/**
 * A rate limit refused the request before anything ran: nothing was stored or called, and a stream was refused
 * by {@code stream(...)} itself. The message names the limit (its scope and what it counts), never the prompt.
 */
public class RateLimitedException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final RateLimits.Scope scope;
    private final Duration retryAfter;

    /**
     * @param scope whose limit refused the request
     * @param what what ran out: {@code "requests"} or {@code "tokens"}
     * @param retryAfter how long until the minute window that refused it ends
     */
    public RateLimitedException(RateLimits.Scope scope, String what, Duration retryAfter) {
        super(ErrorCode.RATE_LIMITED, "rate limited: " + Objects.requireNonNull(what, "what") + " per minute of the "
                + Objects.requireNonNull(scope, "scope").name().toLowerCase(java.util.Locale.ROOT)
                + " used up; retry after " + Math.max(1, (Objects.requireNonNull(retryAfter, "retryAfter").toMillis() + 999) / 1000) + " s");
        this.scope = scope;
        this.retryAfter = retryAfter;
    }

    /** Whose limit refused the request. */
    public RateLimits.Scope scope() {
        return scope;
    }

    /** How long until the window that refused the request ends: an HTTP host answers it as Retry-After. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
