package dev.parley.api.values;

import dev.parley.api.internal.Checks;

/**
 * One scope's counter for a request, as the engine hands it to a {@link dev.parley.api.spi.RateLimitLedger}: its
 * key and its limits in the current minute (zero for no limit of that kind). Immutable and thread safe.
 *
 * @param key the scope's key, such as {@code workspace:org-1:ws-1}; at most 400 characters
 * @param requestLimit the most requests in the minute, or 0 for none
 * @param tokenLimit the most tokens in the minute, or 0 for none
 */
public record RateWindow(String key, long requestLimit, long tokenLimit) {
    /** The longest key. */
    public static final int MAX_KEY_LENGTH = 400;

    public RateWindow {
        Checks.label("key", key, MAX_KEY_LENGTH);
        if (requestLimit < 0 || tokenLimit < 0) {
            throw new IllegalArgumentException("limits must not be negative");
        }
    }
}
