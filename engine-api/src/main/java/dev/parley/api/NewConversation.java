package dev.parley.api;

import dev.parley.api.internal.Checks;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * What to create: a conversation in a workspace, or tied to a repository (whose workspace and organization it
 * inherits through the engine's {@link dev.parley.api.spi.ScopeDirectory}), with optional steering, model and
 * client-supplied creation time. Immutable and thread safe; build with {@link #inWorkspace} or
 * {@link #inRepository}.
 */
public final class NewConversation {
    private final @Nullable String workspaceId;
    private final @Nullable String repositoryId;
    private final Steering steering;
    private final @Nullable String modelName;
    private final Instant createdAt;
    private final ModelParameters modelParameters;

    private NewConversation(Builder b) {
        this.workspaceId = b.workspaceId;
        this.repositoryId = b.repositoryId;
        this.steering = new Steering(b.personality, b.personalityId, b.brandVoiceId, b.targetAudienceId);
        this.modelName = Checks.optionalLabel("modelName", b.modelName, Limits.MAX_TAG_LENGTH);
        this.createdAt = b.createdAt == null ? null : Checks.time("createdAt", b.createdAt);
        this.modelParameters = b.modelParameters;
        if (workspaceId != null) {
            Checks.id("workspaceId", workspaceId);
        } else {
            Checks.id("repositoryId", repositoryId);
        }
    }

    /** A conversation in a workspace. */
    public static Builder inWorkspace(String workspaceId) {
        Builder b = new Builder();
        b.workspaceId = Checks.id("workspaceId", workspaceId);
        return b;
    }

    /** A conversation tied to a repository; workspace and organization come from the repository. */
    public static Builder inRepository(String repositoryId) {
        Builder b = new Builder();
        b.repositoryId = Checks.id("repositoryId", repositoryId);
        return b;
    }

    /** The workspace, when created with {@link #inWorkspace}. */
    public Optional<String> workspaceId() {
        return Optional.ofNullable(workspaceId);
    }

    /** The repository, when created with {@link #inRepository}. */
    public Optional<String> repositoryId() {
        return Optional.ofNullable(repositoryId);
    }

    public Steering steering() {
        return steering;
    }

    /** The model for the conversation's turns; empty means the engine default. */
    public Optional<String> modelName() {
        return Optional.ofNullable(modelName);
    }

    /** The client's creation time; empty means the engine clock's now. */
    public Optional<Instant> createdAt() {
        return Optional.ofNullable(createdAt);
    }

    /** How the conversation's turns ask the model to answer; {@link ModelParameters#NONE} by default. */
    public ModelParameters modelParameters() {
        return modelParameters;
    }

    /** Builds a {@link NewConversation}; fields are checked by {@link #build()}. Not thread safe. */
    public static final class Builder {
        private @Nullable String workspaceId;
        private @Nullable String repositoryId;
        private @Nullable String personality;
        private @Nullable String personalityId;
        private @Nullable String brandVoiceId;
        private @Nullable String targetAudienceId;
        private @Nullable String modelName;
        private Instant createdAt;
        private ModelParameters modelParameters = ModelParameters.NONE;

        private Builder() {
        }

        public Builder personality(@Nullable String personality) {
            this.personality = personality;
            return this;
        }

        public Builder personalityId(@Nullable String personalityId) {
            this.personalityId = personalityId;
            return this;
        }

        public Builder brandVoiceId(@Nullable String brandVoiceId) {
            this.brandVoiceId = brandVoiceId;
            return this;
        }

        public Builder targetAudienceId(@Nullable String targetAudienceId) {
            this.targetAudienceId = targetAudienceId;
            return this;
        }

        /** The model name; null means the engine default. */
        public Builder modelName(@Nullable String modelName) {
            this.modelName = modelName;
            return this;
        }

        public Builder createdAt(Instant createdAt) {
            this.createdAt = Objects.requireNonNull(createdAt, "createdAt");
            return this;
        }

        /** @throws InvalidRequestException naming the first bad field */
        /** How the conversation's turns ask the model to answer; a prompt may override each parameter. */
        public Builder modelParameters(ModelParameters parameters) {
            this.modelParameters = java.util.Objects.requireNonNull(parameters, "parameters");
            return this;
        }

        public NewConversation build() {
            return new NewConversation(this);
        }
    }
}
