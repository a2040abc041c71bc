package dev.parley.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.parley.api.spi.SteeringResolver;

import java.time.Duration;
import java.util.Optional;

/**
 * Reuses the host resolver's answers for a while. Keyed by kind, organization and id: a conversation's ids are
 * read with the conversation on every turn, so a PATCH of ids is seen at once; only the text behind an id,
 * which is the host's own data, may be up to the TTL old. Unknown ids are cached too (as empty), so a
 * resolver that is slow to say "no" is not asked on every turn. A resolver that throws caches nothing. Bounded
 * by size. Thread safe.
 */
final class CachingSteeringResolver implements SteeringResolver {
    private static final long MAXIMUM_ENTRIES = 10_000;

    private record Key(boolean brandVoice, String organizationId, String id) {
    }

    private final SteeringResolver delegate;
    private final Cache<Key, Optional<String>> cache;

    private CachingSteeringResolver(SteeringResolver delegate, Duration ttl) {
        this.delegate = delegate;
        this.cache = Caffeine.newBuilder().expireAfterWrite(ttl).maximumSize(MAXIMUM_ENTRIES).build();
    }

    /** {@code delegate} with answers reused for {@code ttl}; {@code delegate} itself when the TTL is zero. */
    static SteeringResolver of(SteeringResolver delegate, Duration ttl) {
        return ttl.isZero() ? delegate : new CachingSteeringResolver(delegate, ttl);
    }

    @Override
    public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
        return cache.get(new Key(true, organizationId, brandVoiceId),
                k -> delegate.brandVoice(organizationId, brandVoiceId));
    }

    @Override
    public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
        return cache.get(new Key(false, organizationId, targetAudienceId),
                k -> delegate.targetAudience(organizationId, targetAudienceId));
    }
}
