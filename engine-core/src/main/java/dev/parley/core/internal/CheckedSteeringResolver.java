package dev.parley.core.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.Limits;
import dev.parley.api.internal.Checks;
import dev.parley.api.spi.SteeringResolver;

import java.util.Optional;

/**
 * A host's steering resolver with its answers checked as a client's personality text is: a null answer, a text
 * longer than {@link Limits#MAX_STEERING_LENGTH}, or one with NUL or unpaired surrogates fails with an
 * {@link IllegalStateException} naming the resolver, before it reaches a model request or a cache. Thread safe
 * when the resolver is.
 */
final class CheckedSteeringResolver implements SteeringResolver {
    private final SteeringResolver delegate;

    CheckedSteeringResolver(SteeringResolver delegate) {
        this.delegate = delegate;
    }

    @Override
    public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
        return check(delegate.brandVoice(organizationId, brandVoiceId), "brand voice", brandVoiceId);
    }

    @Override
    public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
        return check(delegate.targetAudience(organizationId, targetAudienceId), "target audience", targetAudienceId);
    }

    private Optional<String> check(Optional<String> answer, String kind, String id) {
        if (answer == null) {
            throw new IllegalStateException("steering resolver " + delegate.getClass().getName()
                    + " returned null for " + kind + " " + id + "; return Optional.empty() for an unknown id");
        }
        answer.ifPresent(text -> {
            try {
                Checks.text(kind, text, Limits.MAX_STEERING_LENGTH);
            } catch (InvalidRequestException e) {
                throw new IllegalStateException("steering resolver " + delegate.getClass().getName() + " returned an "
                        + "unusable " + kind + " for id " + id + " (" + text.length() + " chars): " + e.getMessage());
            }
        });
        return answer;
    }
}
