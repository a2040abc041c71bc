package dev.parley.api.spi;

import dev.parley.api.values.RateWindow;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The rate-limit counters of a {@link ConversationStore} that shares them between the engines on it: per key, the
 * requests and tokens of the current minute window. Every method is atomic and thread safe across every engine on
 * the store.
 */
public interface RateLimitLedger {

    /**
     * Counts one request in the window that starts at {@code windowStart} for every key, all or none: refused, and
     * nothing counted, when a key has reached its request limit or its token limit in that window. A key whose
     * counter is of an earlier window starts the new one at zero.
     *
     * @param windowStart the start of the current minute
     * @return empty when admitted; else the first key, in the given order, that refused
     */
    Optional<String> admit(List<RateWindow> windows, Instant windowStart);

    /** Adds a stored turn's tokens to each key's counter for the window that starts at {@code windowStart}. */
    void addTokens(List<String> keys, long tokens, Instant windowStart);
}
