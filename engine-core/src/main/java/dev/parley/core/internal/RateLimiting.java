package dev.parley.core.internal;

import dev.parley.api.Caller;
import dev.parley.api.ConversationInfo;
import dev.parley.api.RateLimitedException;
import dev.parley.api.RateLimits;
import dev.parley.api.spi.RateLimitLedger;
import dev.parley.api.values.RateWindow;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's rate limits: admits a request on the counters of its caller, workspace and organization, or refuses
 * it with {@link RateLimitedException}; counts a stored turn's tokens. Thread safe.
 */
final class RateLimiting {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RateLimiting.class);
    private static final long WINDOW_SECONDS = 60;

    private final RateLimits limits;
    private final RateLimitLedger ledger;
    private final Clock clock;

    private RateLimiting(RateLimits limits, RateLimitLedger ledger, Clock clock) {
        this.limits = limits;
        this.ledger = ledger;
        this.clock = clock;
    }

    /** The engine's limits on the store's counters, or on counters of its own when the store keeps none; null for none. */
    static RateLimiting of(RateLimits limits, dev.parley.api.spi.ConversationStore store, Clock clock) {
        if (limits.isEmpty()) {
            return null;
        }
        if (store instanceof RateLimitLedger shared) {
            return new RateLimiting(limits, shared, clock);
        }
        LOG.info("The conversation store keeps no rate-limit counters: this engine counts its own requests only");
        return new RateLimiting(limits, new MemoryRateLimits(), clock);
    }

    /** The scopes a request counts in, with their keys and limits, in scope order. */
    private List<Scoped> scopes(Caller caller, ConversationInfo conversation) {
        List<Scoped> out = new ArrayList<>(3);
        String org = conversation.organizationId();
        for (Map.Entry<RateLimits.Scope, RateLimits.Limit> e : limits.limits().entrySet()) {
            // Each id length-prefixed, so that ids holding ':' cannot make two scopes share a key.
            String key = switch (e.getKey()) {
                case CALLER -> "caller:" + part(org) + part(caller.userId());
                case WORKSPACE -> "workspace:" + part(org) + part(conversation.workspaceId());
                case ORGANIZATION -> "organization:" + part(org);
            };
            RateLimits.Limit limit = e.getValue();
            out.add(new Scoped(e.getKey(), new RateWindow(key, limit.requestsPerMinute().orElse(0),
                    limit.tokensPerMinute().orElse(0))));
        }
        return out;
    }

    private static String part(String id) {
        return id.length() + ":" + id + ";";
    }

    private record Scoped(RateLimits.Scope scope, RateWindow window) {
    }

    private static Instant windowStart(Instant now) {
        long seconds = Math.floorDiv(now.getEpochSecond(), WINDOW_SECONDS) * WINDOW_SECONDS;
        return Instant.ofEpochSecond(seconds);
    }

    /**
     * Counts one request of the caller in the conversation, or refuses it.
     *
     * @throws RateLimitedException naming the scope that is used up and when its window ends
     */
    void admit(Caller caller, ConversationInfo conversation) {
        List<Scoped> scopes = scopes(caller, conversation);
        Instant now = clock.instant();
        Instant start = windowStart(now);
        Optional<String> refused = ledger.admit(scopes.stream().map(Scoped::window).toList(), start);
        if (refused.isEmpty()) {
            return;
        }
        Scoped by = scopes.stream().filter(s -> s.window().key().equals(refused.get())).findFirst().orElseThrow();
        Duration retryAfter = Duration.between(now, start.plusSeconds(WINDOW_SECONDS));
        RateWindow w = by.window();
        String what = w.tokenLimit() == 0 ? "requests" : w.requestLimit() == 0 ? "tokens" : "requests or tokens";
        throw new RateLimitedException(by.scope(), what, retryAfter);
    }

    /** Counts a stored turn's tokens in its scopes; a failure is logged, never thrown. */
    void used(Caller caller, ConversationInfo conversation, long tokens) {
        if (tokens <= 0) {
            return;
        }
        List<String> keys = new ArrayList<>(3);
        for (Scoped s : scopes(caller, conversation)) {
            if (s.window().tokenLimit() > 0) {
                keys.add(s.window().key());
            }
        }
        if (keys.isEmpty()) {
            return;
        }
        try {
            ledger.addTokens(keys, tokens, windowStart(clock.instant()));
        } catch (RuntimeException e) {
            LOG.warn("Could not count a turn's tokens against the rate limits of conversation {}", conversation.id(), e);
        }
    }
}
