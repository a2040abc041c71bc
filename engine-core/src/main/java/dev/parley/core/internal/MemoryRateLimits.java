package dev.parley.core.internal;

import dev.parley.api.spi.RateLimitLedger;
import dev.parley.api.values.RateWindow;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rate-limit counters in memory: one counter per key, of its latest window, all guarded by this object's monitor so
 * that an admission is all or none. Used by the in-memory store, and by an engine whose store keeps none. Not API.
 */
public final class MemoryRateLimits implements RateLimitLedger {
    private static final class Counter {
        Instant window;
        long requests;
        long tokens;
    }

    private final Map<String, Counter> counters = new HashMap<>();

    @Override
    public synchronized Optional<String> admit(List<RateWindow> windows, Instant windowStart) {
        for (RateWindow w : windows) {
            Counter c = counters.get(w.key());
            if (c == null || c.window.isBefore(windowStart)) {
                continue; // a new window: nothing counted yet
            }
            if (w.requestLimit() > 0 && c.requests >= w.requestLimit() || w.tokenLimit() > 0 && c.tokens >= w.tokenLimit()) {
                return Optional.of(w.key());
            }
        }
        for (RateWindow w : windows) {
            current(w.key(), windowStart).requests++;
        }
        return Optional.empty();
    }

    @Override
    public synchronized void addTokens(List<String> keys, long tokens, Instant windowStart) {
        for (String key : keys) {
            current(key, windowStart).tokens += tokens;
        }
    }

    private Counter current(String key, Instant windowStart) {
        Counter c = counters.computeIfAbsent(key, k -> new Counter());
        // A window older than the counter's (an engine whose clock is behind) counts in the counter's own.
        if (c.window == null || c.window.isBefore(windowStart)) {
            c.window = windowStart;
            c.requests = 0;
            c.tokens = 0;
        }
        return c;
    }
}
