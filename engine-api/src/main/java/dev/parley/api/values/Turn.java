package dev.parley.api.values;

import dev.parley.api.Caller;
import dev.parley.api.ConversationInfo;
import dev.parley.api.Prompt;
import dev.parley.api.spi.EngineListener;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * One turn as it travels down the pipeline: who sends what to which conversation, and what the stages have
 * derived so far. Immutable and thread safe; stages derive a changed turn with {@link #withPrompt} and
 * {@link #withRequest}.
 *
 * @param conversation the conversation as read when the turn began
 * @param caller who sends
 * @param prompt what the client sent
 * @param promptId the turn's message id: the prompt's id, or one the engine generated
 * @param model the model name chosen for the turn
 * @param contextSize the history token budget of the turn
 * @param createdAt the time of the user message
 * @param request the model request built by the context stage; empty before it
 * @param promptTokens the prompt's own token count; empty before the context stage counts it
 * @param requestTokens the estimated tokens of the whole request; empty before the context stage counts them
 * @param stream the output path when the turn streams, or null for {@code send}
 * @param claimToken the token of the claim the idempotency stage holds on the turn's message id, or null when no
 *                   claim was made; the persist stage commits under it
 * @param attributes typed values for the stages: the caller's, the prompt's over them, and what earlier stages
 *                   added ({@link #withAttribute})
 */
public record Turn(
        ConversationInfo conversation,
        Caller caller,
        Prompt prompt,
        String promptId,
        String model,
        int contextSize,
        Instant createdAt,
        List<ModelMessage> request,
        java.util.OptionalInt promptTokens,
        java.util.OptionalLong requestTokens,
        @Nullable TurnStream stream,
        @Nullable String claimToken,
        dev.parley.api.TurnAttributes attributes) {

    /**
     * A turn as it begins: no request built yet, no claim, and the caller's attributes with the prompt's over
     * them.
     */
    public Turn(ConversationInfo conversation, Caller caller, Prompt prompt, String promptId, String model,
                int contextSize, Instant createdAt, @Nullable TurnStream stream) {
        this(conversation, caller, prompt, promptId, model, contextSize, createdAt, List.of(),
                java.util.OptionalInt.empty(), java.util.OptionalLong.empty(), stream, null,
                caller.attributes().overriddenBy(prompt.attributes()));
    }

    public Turn {
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(caller, "caller");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(createdAt, "createdAt");
        Objects.requireNonNull(attributes, "attributes");
        Objects.requireNonNull(promptTokens, "promptTokens");
        Objects.requireNonNull(requestTokens, "requestTokens");
        request = List.copyOf(request);
    }

    @Override
    public String toString() {
        return "Turn{conversation=" + conversation.id() + ", promptId=" + promptId + ", model=" + model
                + ", contextSize=" + contextSize + ", requestMessages=" + request.size() + ", streaming="
                + (stream != null) + ", attributes=" + attributes + "}";
    }

    /**
     * How the model is asked to answer this turn: the conversation's parameters with the prompt's own over them.
     * A budget reserves against its {@link dev.parley.api.ModelParameters#maxOutputTokens()}.
     */
    public dev.parley.api.ModelParameters modelParameters() {
        return conversation.modelParameters().overriddenBy(prompt.modelParameters());
    }

    /** The value of an attribute of this turn, if set: by a stage before, the prompt, or the caller. */
    public <T> java.util.Optional<T> attribute(dev.parley.api.TurnAttribute<T> key) {
        return attributes.get(key);
    }

    /**
     * The same turn with an attribute set, for the stages after this one.
     *
     * @throws IllegalArgumentException when the value is not of the key's type
     */
    public <T> Turn withAttribute(dev.parley.api.TurnAttribute<T> key, T value) {
        return new Turn(conversation, caller, prompt, promptId, model, contextSize, createdAt, request, promptTokens,
                requestTokens, stream, claimToken, attributes.with(key, value));
    }

    /** What the engine's listener is told of this turn: ids, model, whether it streams; no user text. */
    public EngineListener.TurnContext context() {
        return new EngineListener.TurnContext(conversation.id(), conversation.workspaceId(), promptId, model,
                stream != null);
    }

    /** The output path of a streamed turn. */
    public java.util.Optional<TurnStream> streaming() {
        return java.util.Optional.ofNullable(stream);
    }

    /** The same turn with the model request and its token counts set. */
    public Turn withRequest(List<ModelMessage> newRequest, int newPromptTokens, long newRequestTokens) {
        if (newPromptTokens < 0 || newRequestTokens < 0) {
            throw new IllegalArgumentException("token counts must not be negative: " + newPromptTokens + ", "
                    + newRequestTokens);
        }
        return new Turn(conversation, caller, prompt, promptId, model, contextSize, createdAt, newRequest,
                java.util.OptionalInt.of(newPromptTokens), java.util.OptionalLong.of(newRequestTokens), stream,
                claimToken, attributes);
    }

    /**
     * The same turn answered by another registered model, for example by a fallback stage at
     * {@link dev.parley.api.PromptPipeline.Position#BEFORE_MODEL_CALL}. The request and its estimate stay as the
     * context stage built them.
     */
    public Turn withModel(String newModel) {
        dev.parley.api.internal.Checks.label("model", newModel, dev.parley.api.Limits.MAX_TAG_LENGTH);
        return new Turn(conversation, caller, prompt, promptId, newModel, contextSize, createdAt, request,
                promptTokens, requestTokens, stream, claimToken, attributes);
    }

    /** The same turn holding the claim with this token on its message id. */
    public Turn withClaimToken(String token) {
        return new Turn(conversation, caller, prompt, promptId, model, contextSize, createdAt, request,
                promptTokens, requestTokens, stream, java.util.Objects.requireNonNull(token, "token"), attributes);
    }

    /** The token of the claim held on the turn's message id, when one was made. */
    public java.util.Optional<String> claim() {
        return java.util.Optional.ofNullable(claimToken);
    }

    /**
     * The same turn with another prompt (for example one a stage redacted). The model request and its counts
     * are reset, so that the context stage builds them again from the new prompt: a stage that rewrites the
     * prompt belongs before the context stage.
     */
    public Turn withPrompt(Prompt newPrompt) {
        return new Turn(conversation, caller, newPrompt, promptId, model, contextSize, createdAt, List.of(),
                java.util.OptionalInt.empty(), java.util.OptionalLong.empty(), stream, claimToken, attributes.overriddenBy(newPrompt.attributes()));
    }

    /**
     * The same turn, its request and counts kept, asking the model with {@code parameters} over the conversation's
     * (a budget stage caps the output tokens of a metered turn this way).
     */
    public Turn withModelParameters(dev.parley.api.ModelParameters parameters) {
        Prompt capped = prompt.toBuilder().modelParameters(Objects.requireNonNull(parameters, "parameters")).build();
        return new Turn(conversation, caller, capped, promptId, model, contextSize, createdAt, request, promptTokens,
                requestTokens, stream, claimToken, attributes);
    }
}
