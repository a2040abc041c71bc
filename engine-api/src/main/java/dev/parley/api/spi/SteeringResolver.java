package dev.parley.api.spi;

import java.util.Optional;

/**
 * Turns brand voice and target audience ids into the text the model sees. Ids it does not know are refused
 * when a conversation is created or patched. Must be thread safe.
 */
public interface SteeringResolver {

    /** The brand voice's text, or empty when the organization has no such brand voice. */
    Optional<String> brandVoice(String organizationId, String brandVoiceId);

    /** The target audience's text, or empty when the organization has no such audience. */
    Optional<String> targetAudience(String organizationId, String targetAudienceId);

    /** A resolver that knows no id. */
    static SteeringResolver none() {
        return new SteeringResolver() {
            @Override
            public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
                return Optional.empty();
            }

            @Override
            public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
                return Optional.empty();
            }
        };
    }
}
