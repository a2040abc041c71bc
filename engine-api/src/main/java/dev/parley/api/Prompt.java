package dev.parley.api;

import dev.parley.api.internal.Checks;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One user turn and its per-turn options. Immutable and thread safe; start with {@link #text(String)}.
 *
 * <ul>
 *   <li>{@code id}: the client's message id, the idempotency key of the turn within its conversation. A replay
 *       of an id returns the stored reply and makes no model call. Generated when absent.</li>
 *   <li>{@code additionalContext}: snippets the model sees for this turn only; never stored as history.</li>
 *   <li>{@code model}: the model for this turn; absent means the conversation's model, then the engine
 *       default.</li>
 *   <li>{@code contextSize}: the token budget for history, prompt and additional context; absent means the
 *       engine's default (16000). The oldest history is dropped first.</li>
 *   <li>{@code saveHistory}: false answers and counts the turn but adds it to no history.</li>
 *   <li>{@code plaintext}: true returns the reply with markdown removed; a stream's deltas are plain text too (a
 *       delta with markup is held back until its paragraph shows what the markup means). The history keeps the
 *       markdown the model wrote.</li>
 *   <li>{@code user}, {@code source}: tracking tags stored on the turn's messages.</li>
 *   <li>{@code createdAt}: the client's time of the message; absent means the engine clock's now. At most
 *       {@link Limits#MAX_CLIENT_TIME_AHEAD} ahead of the engine's clock (checked when the prompt is sent).</li>
 *   <li>The text and the snippets together are at most {@link Limits#MAX_PROMPT_TOTAL_LENGTH} chars.</li>
 * </ul>
 */
public final class Prompt {
    private final String text;
    private final String id;
    private final List<String> additionalContext;
    private final String model;
    private final Integer contextSize;
    private final boolean saveHistory;
    private final boolean plaintext;
    private final String user;
    private final String source;
    private final Instant createdAt;
    private final ModelParameters modelParameters;
    private final TurnAttributes attributes;

    private Prompt(Builder b) {
        this.text = Checks.text("text", b.text, Limits.MAX_TEXT_LENGTH);
        this.id = Checks.optionalId("id", b.id);
        this.additionalContext = Checks.snippets("additionalContext", b.additionalContext);
        long total = text.length();
        for (String snippet : additionalContext) {
            total += snippet.length();
        }
        if (total > Limits.MAX_PROMPT_TOTAL_LENGTH) {
            throw new InvalidRequestException("additionalContext", "text and additional context together must be at most "
                    + Limits.MAX_PROMPT_TOTAL_LENGTH + " characters");
        }
        this.model = Checks.optionalLabel("model", b.model, Limits.MAX_TAG_LENGTH);
        if (b.contextSize != null && (b.contextSize < 1 || b.contextSize > Limits.MAX_CONTEXT_SIZE)) {
            throw new InvalidRequestException("contextSize", "must be between 1 and " + Limits.MAX_CONTEXT_SIZE);
        }
        this.contextSize = b.contextSize;
        this.saveHistory = b.saveHistory;
        this.plaintext = b.plaintext;
        this.user = Checks.optionalLabel("user", b.user, Limits.MAX_TAG_LENGTH);
        this.source = Checks.optionalLabel("source", b.source, Limits.MAX_TAG_LENGTH);
        this.createdAt = b.createdAt == null ? null : Checks.time("createdAt", b.createdAt);
        this.modelParameters = b.modelParameters;
        this.attributes = b.attributes;
    }

    /**
     * Starts a prompt with the user's text. The text is checked by {@link Builder#build()}.
     */
    public static Builder text(String text) {
        Builder b = new Builder();
        b.text = text;
        return b;
    }

    public String text() {
        return text;
    }

    /** The client's message id, when it gave one. */
    public Optional<String> id() {
        return Optional.ofNullable(id);
    }

    public List<String> additionalContext() {
        return additionalContext;
    }

    public Optional<String> model() {
        return Optional.ofNullable(model);
    }

    public OptionalInt contextSize() {
        return contextSize == null ? OptionalInt.empty() : OptionalInt.of(contextSize);
    }

    /**
     * Whether the turn goes to history. A turn with {@code saveHistory(false)} keeps no trace, so its id is not
     * remembered: only concurrent sends of it are shared, and sending it again later makes a new model call.
     */
    public boolean saveHistory() {
        return saveHistory;
    }

    public boolean plaintext() {
        return plaintext;
    }

    public Optional<String> user() {
        return Optional.ofNullable(user);
    }

    public Optional<String> source() {
        return Optional.ofNullable(source);
    }

    public Optional<Instant> createdAt() {
        return Optional.ofNullable(createdAt);
    }

    /**
     * The model parameters of this turn ({@link ModelParameters#NONE} when it sets none); each one set overrides
     * the conversation's.
     */
    public ModelParameters modelParameters() {
        return modelParameters;
    }

    /** The attributes the host gave this turn; they override the caller's. Not stored, not sent to the model. */
    public TurnAttributes attributes() {
        return attributes;
    }

    /**
     * This prompt with another text and additional context, everything else kept: what a policy's redaction makes
     * of it.
     *
     * @throws InvalidRequestException naming {@code text} or {@code additionalContext} when the new values break a
     *                                 limit
     */
    public Prompt withContent(String newText, List<String> newContext) {
        Builder b = toBuilder();
        b.text = newText;
        b.additionalContext.clear();
        b.additionalContext.addAll(Objects.requireNonNull(newContext, "newContext"));
        return b.build();
    }

    /** A builder holding this prompt's values, to derive another. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.text = text;
        b.id = id;
        b.additionalContext.addAll(additionalContext);
        b.model = model;
        b.contextSize = contextSize;
        b.saveHistory = saveHistory;
        b.plaintext = plaintext;
        b.user = user;
        b.source = source;
        b.createdAt = createdAt;
        b.modelParameters = modelParameters;
        b.attributes = attributes;
        return b;
    }

    @Override
    public String toString() {
        // Prompt text stays out of toString so that it cannot leak into logs by accident.
        return "Prompt{id=" + id + ", chars=" + text.length() + ", snippets=" + additionalContext.size()
                + ", model=" + model + ", saveHistory=" + saveHistory + "}";
    }

    /** Builds a {@link Prompt}; fields are checked by {@link #build()}. Not thread safe. */
    public static final class Builder {
        private String text;
        private String id;
        private final List<String> additionalContext = new ArrayList<>();
        private String model;
        private Integer contextSize;
        private boolean saveHistory = true;
        private boolean plaintext;
        private String user;
        private String source;
        private Instant createdAt;
        private ModelParameters modelParameters = ModelParameters.NONE;
        private TurnAttributes attributes = TurnAttributes.EMPTY;

        private Builder() {
        }

        /** The client's message id: the idempotency key of this turn. */
        public Builder id(String id) {
            this.id = id;
            return this;
        }

        /** Adds snippets the model sees for this turn only. */
        public Builder additionalContext(String... snippets) {
            return additionalContext(Arrays.asList(snippets));
        }

        /** Adds snippets the model sees for this turn only. */
        public Builder additionalContext(List<String> snippets) {
            Objects.requireNonNull(snippets, "snippets");
            for (String s : snippets) {
                additionalContext.add(s);
            }
            return this;
        }

        public Builder model(String model) {
            this.model = model;
            return this;
        }

        public Builder contextSize(int tokens) {
            this.contextSize = tokens;
            return this;
        }

        public Builder saveHistory(boolean saveHistory) {
            this.saveHistory = saveHistory;
            return this;
        }

        public Builder plaintext(boolean plaintext) {
            this.plaintext = plaintext;
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        public Builder source(String source) {
            this.source = source;
            return this;
        }

        public Builder createdAt(Instant createdAt) {
            this.createdAt = Objects.requireNonNull(createdAt, "createdAt");
            return this;
        }

        /** The model parameters of this turn; each one set overrides the conversation's. */
        public Builder modelParameters(ModelParameters parameters) {
            this.modelParameters = Objects.requireNonNull(parameters, "parameters");
            return this;
        }

        /**
         * Gives this turn an attribute, for the stages to read; it overrides the caller's of the same key.
         *
         * @throws IllegalArgumentException when the value is not of the key's type
         */
        public <T> Builder attribute(TurnAttribute<T> key, T value) {
            this.attributes = attributes.with(key, value);
            return this;
        }

        /** @throws InvalidRequestException naming the first bad field */
        public Prompt build() {
            return new Prompt(this);
        }
    }
}
