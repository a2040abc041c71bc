package dev.parley.api;

import dev.parley.api.internal.Checks;

/**
 * A change to a conversation's steering and model. Each field is tri-state ({@link PatchValue}): a builder
 * method never called keeps the field, called with null clears it, called with a value sets it. A patch that
 * changes nothing is refused by {@link Conversation#update}. Immutable and thread safe.
 *
 * <pre>{@code
 * ConversationPatch.builder().personality(null).modelName("gpt-4o").build(); // clear one, set one, keep the rest
 * }</pre>
 */
public record ConversationPatch(
        PatchValue<String> personality,
        PatchValue<String> personalityId,
        PatchValue<String> brandVoiceId,
        PatchValue<String> targetAudienceId,
        PatchValue<String> modelName,
        PatchValue<ModelParameters> modelParameters) {

    /** A patch that keeps the model parameters. */
    public ConversationPatch(PatchValue<String> personality, PatchValue<String> personalityId,
                             PatchValue<String> brandVoiceId, PatchValue<String> targetAudienceId,
                             PatchValue<String> modelName) {
        this(personality, personalityId, brandVoiceId, targetAudienceId, modelName, PatchValue.keep());
    }

    public ConversationPatch {
        java.util.Objects.requireNonNull(personality, "personality");
        java.util.Objects.requireNonNull(personalityId, "personalityId");
        java.util.Objects.requireNonNull(brandVoiceId, "brandVoiceId");
        java.util.Objects.requireNonNull(targetAudienceId, "targetAudienceId");
        java.util.Objects.requireNonNull(modelName, "modelName");
        java.util.Objects.requireNonNull(modelParameters, "modelParameters");
        if (personality.applyTo(null) != null) {
            Checks.text("personality", personality.applyTo(null), Limits.MAX_STEERING_LENGTH);
        }
        Checks.optionalId("personalityId", personalityId.applyTo(null));
        Checks.optionalId("brandVoiceId", brandVoiceId.applyTo(null));
        Checks.optionalId("targetAudienceId", targetAudienceId.applyTo(null));
        String model = modelName.applyTo(null);
        if (model != null) {
            Checks.label("modelName", model, Limits.MAX_TAG_LENGTH);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Whether the patch changes no field at all. */
    public boolean isEmpty() {
        return personality.isKeep() && personalityId.isKeep() && brandVoiceId.isKeep()
                && targetAudienceId.isKeep() && modelName.isKeep() && modelParameters.isKeep();
    }

    /** The steering after this patch. */
    public Steering applyTo(Steering s) {
        return new Steering(
                personality.applyTo(s.personality()),
                personalityId.applyTo(s.personalityId()),
                brandVoiceId.applyTo(s.brandVoiceId()),
                targetAudienceId.applyTo(s.targetAudienceId()));
    }

    /** Builds a {@link ConversationPatch}. Not thread safe. */
    public static final class Builder {
        private PatchValue<String> personality = PatchValue.keep();
        private PatchValue<String> personalityId = PatchValue.keep();
        private PatchValue<String> brandVoiceId = PatchValue.keep();
        private PatchValue<String> targetAudienceId = PatchValue.keep();
        private PatchValue<String> modelName = PatchValue.keep();
        private PatchValue<ModelParameters> modelParameters = PatchValue.keep();

        private Builder() {
        }

        /** Sets the personality text; null clears it. */
        public Builder personality(String value) {
            this.personality = PatchValue.of(value);
            return this;
        }

        public Builder personalityId(String value) {
            this.personalityId = PatchValue.of(value);
            return this;
        }

        public Builder brandVoiceId(String value) {
            this.brandVoiceId = PatchValue.of(value);
            return this;
        }

        public Builder targetAudienceId(String value) {
            this.targetAudienceId = PatchValue.of(value);
            return this;
        }

        /** Sets the model; null clears it, so the engine default applies. */
        public Builder modelName(String value) {
            this.modelName = PatchValue.of(value);
            return this;
        }

        /**
         * Replaces the conversation's model parameters as a whole; null (or {@link ModelParameters#NONE}) clears
         * them, so the model's own configuration applies.
         */
        public Builder modelParameters(ModelParameters value) {
            this.modelParameters = value == null || value.isEmpty() ? PatchValue.clear() : PatchValue.set(value);
            return this;
        }

        /** @throws InvalidRequestException naming the first bad field */
        public ConversationPatch build() {
            return new ConversationPatch(personality, personalityId, brandVoiceId, targetAudienceId, modelName,
                    modelParameters);
        }
    }
}
