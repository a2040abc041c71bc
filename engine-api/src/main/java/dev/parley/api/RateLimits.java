package dev.parley.api;

import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Requests and tokens per minute, for each caller (a user in an organization), each workspace and each
 * organization, shared by every engine on a store that keeps them ({@link dev.parley.api.spi.RateLimitLedger}),
 * else per engine. Immutable and thread safe.
 *
 * <p>Windows are whole minutes of the engine's clock ({@code 12:00:00} to {@code 12:00:59.999}): a request is admitted
 * when, in the current minute, each of its scopes has had fewer requests than its request limit and has used fewer
 * tokens than its token limit; it then counts as one request in each, all or none. A turn's tokens (input and output,
 * as settled) count once it is stored, in the minute it was stored, so one turn may take a scope past its token
 * limit, and the next is refused until the minute ends. A replayed message id counts as a request; it uses no tokens.
 * Because windows are fixed minutes, a burst at the end of one minute and another at the start of the next can
 * together exceed a limit within less than sixty seconds, never within one window.
 *
 * <pre>{@code
 * RateLimits.builder().perCaller(20, 40_000).perWorkspace(200, 400_000).perOrganization(1_000, 0).build()
 * }</pre>
 */
public final class RateLimits {
    /** Whose requests a limit counts. */
    public enum Scope {
        /** One user in one organization. */
        CALLER,
        /** One workspace. */
        WORKSPACE,
        /** One organization. */
        ORGANIZATION
    }

    /**
     * One scope's limit.
     *
     * @param requestsPerMinute the most requests a minute, or empty for no limit
     * @param tokensPerMinute the most tokens a minute, or empty for no limit
     */
    public record Limit(OptionalLong requestsPerMinute, OptionalLong tokensPerMinute) {
        public Limit {
            Objects.requireNonNull(requestsPerMinute, "requestsPerMinute");
            Objects.requireNonNull(tokensPerMinute, "tokensPerMinute");
        }
    }

    /** No limits. */
    public static final RateLimits NONE = new RateLimits(new EnumMap<>(Scope.class));

    private final Map<Scope, Limit> limits;

    private RateLimits(EnumMap<Scope, Limit> limits) {
        this.limits = java.util.Collections.unmodifiableMap(new EnumMap<>(limits));
    }

    /** A builder with no limits. */
    public static Builder builder() {
        return new Builder();
    }

    /** The limit of each scope that has one. */
    public Map<Scope, Limit> limits() {
        return limits;
    }

    /** Whether no scope has a limit. */
    public boolean isEmpty() {
        return limits.isEmpty();
    }

    @Override
    public String toString() {
        return "RateLimits" + limits;
    }

    /** Builds {@link RateLimits}. Not thread safe. */
    public static final class Builder {
        private final EnumMap<Scope, Limit> limits = new EnumMap<>(Scope.class);

        private Builder() {
        }

        /** Each caller's limits; a zero means no limit of that kind. */
        public Builder perCaller(long requestsPerMinute, long tokensPerMinute) {
            return limit(Scope.CALLER, requestsPerMinute, tokensPerMinute);
        }

        /** Each workspace's limits; a zero means no limit of that kind. */
        public Builder perWorkspace(long requestsPerMinute, long tokensPerMinute) {
            return limit(Scope.WORKSPACE, requestsPerMinute, tokensPerMinute);
        }

        /** Each organization's limits; a zero means no limit of that kind. */
        public Builder perOrganization(long requestsPerMinute, long tokensPerMinute) {
            return limit(Scope.ORGANIZATION, requestsPerMinute, tokensPerMinute);
        }

        /**
         * A scope's limits; a zero means no limit of that kind.
         *
         * @throws InvalidRequestException naming {@code requestsPerMinute} or {@code tokensPerMinute} when negative
         */
        public Builder limit(Scope scope, long requestsPerMinute, long tokensPerMinute) {
            Objects.requireNonNull(scope, "scope");
            if (requestsPerMinute < 0) {
                throw new InvalidRequestException("requestsPerMinute", "must not be negative");
            }
            if (tokensPerMinute < 0) {
                throw new InvalidRequestException("tokensPerMinute", "must not be negative");
            }
            if (requestsPerMinute == 0 && tokensPerMinute == 0) {
                limits.remove(scope);
            } else {
                limits.put(scope, new Limit(
                        requestsPerMinute == 0 ? OptionalLong.empty() : OptionalLong.of(requestsPerMinute),
                        tokensPerMinute == 0 ? OptionalLong.empty() : OptionalLong.of(tokensPerMinute)));
            }
            return this;
        }

        public RateLimits build() {
            return new RateLimits(limits);
        }
    }
}
