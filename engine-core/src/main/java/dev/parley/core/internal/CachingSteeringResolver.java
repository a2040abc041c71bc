package dev.parley.core.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.parley.api.spi.SteeringResolver;

import java.time.Duration;
import java.util.Optional;

/**
 * Reuses the host resolver's answers for a while. Keyed by kind, organization and id: a conversation's ids are
 * read with the conversation on every turn, so a PATCH of ids is seen at once; only the text behind an id,
 * which is the host's own data, may be up to the TTL old. Only texts are cached: an id the resolver does not
 * know is asked again each time, so an id the host adds is usable at once. A resolver that throws caches
 * nothing. Bounded by size. Thread safe.
 */
final class CachingSteeringResolver implements SteeringResolver {
    private static final long MAXIMUM_ENTRIES = 10_000;

    private record Key(boolean brandVoice, String organizationId, String id) {
    }

    private final SteeringResolver delegate;
    private final Cache<Key, String> cache;

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
        return lookup(new Key(true, organizationId, brandVoiceId), () -> delegate.brandVoice(organizationId, brandVoiceId));
    }

    @Override
    public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
        return lookup(new Key(false, organizationId, targetAudienceId),
                () -> delegate.targetAudience(organizationId, targetAudienceId));
    }

    private Optional<String> lookup(Key key, java.util.function.Supplier<Optional<String>> resolve) {
        String cached = cache.getIfPresent(key);
        if (cached != null) {
            return Optional.of(cached);
        }
        Optional<String> found = resolve.get();
        found.ifPresent(text -> cache.put(key, text));
        return found;
    }
}
