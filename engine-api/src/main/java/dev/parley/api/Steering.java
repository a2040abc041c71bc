package dev.parley.api;

import dev.parley.api.internal.Checks;

import org.jspecify.annotations.Nullable;

/**
 * How a conversation's model is steered. Every field may be absent (null).
 * <p>The system message of each turn is built from it: the {@code personality} text if present, otherwise the
 * brand voice that {@code brandVoiceId} resolves to; then the target audience that {@code targetAudienceId}
 * resolves to. {@code personalityId} is a back-reference for the host and never reaches the model.
 * Immutable and thread safe.
 *
 * @param personality free text that describes how the assistant speaks; wins over a brand voice
 * @param personalityId the host's id of the personality the text came from
 * @param brandVoiceId a brand voice, resolved to text by the engine's {@link dev.parley.api.spi.SteeringResolver}
 * @param targetAudienceId a target audience, resolved to text likewise
 */
public record Steering(@Nullable String personality, @Nullable String personalityId, @Nullable String brandVoiceId, @Nullable String targetAudienceId) {

    /** No steering at all. */
    public static final Steering NONE = new Steering(null, null, null, null);

    @Override
    public String toString() {
        // The personality text stays out of toString so that it cannot leak into logs by accident.
        return "Steering{personality=" + (personality == null ? "none" : personality.length() + " chars")
                + ", personalityId=" + personalityId + ", brandVoiceId=" + brandVoiceId + ", targetAudienceId="
                + targetAudienceId + "}";
    }

    public Steering {
        if (personality != null) {
            Checks.text("personality", personality, Limits.MAX_STEERING_LENGTH);
        }
        Checks.optionalId("personalityId", personalityId);
        Checks.optionalId("brandVoiceId", brandVoiceId);
        Checks.optionalId("targetAudienceId", targetAudienceId);
    }
}
