package dev.parley.api;

import java.time.Instant;
import java.util.Objects;

/**
 * The answer to one turn. Immutable and thread safe.
 *
 * @param conversationId the conversation
 * @param promptId the turn's message id (the client's, or the generated one)
 * @param messageId the stored reply's id
 * @param text the reply; markdown removed when the prompt asked for plaintext
 * @param model the model that answered
 * @param usage the turn's tokens
 * @param credits the turn's credits
 * @param status how the reply ended
 * @param replayed true when the reply was stored earlier and no model was called for this request
 * @param createdAt when the reply was written
 * @param policyOutcomes how each configured policy judged each phase of the turn, in the order they ran; empty when no
 *                       policy applies, and for a replayed reply (its turn's checks were reported when it ran)
 */
public record Reply(
        String conversationId,
        String promptId,
        String messageId,
        String text,
        String model,
        Usage usage,
        Credits credits,
        MessageStatus status,
        boolean replayed,
        Instant createdAt,
        java.util.List<dev.parley.api.policy.PolicyOutcome> policyOutcomes) {

    /** A reply no policy checked. */
    public Reply(String conversationId, String promptId, String messageId, String text, String model, Usage usage,
                 Credits credits, MessageStatus status, boolean replayed, Instant createdAt) {
        this(conversationId, promptId, messageId, text, model, usage, credits, status, replayed, createdAt,
                java.util.List.of());
    }

    public Reply {
        policyOutcomes = java.util.List.copyOf(policyOutcomes);
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(credits, "credits");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    @Override
    public String toString() {
        return "Reply{conversationId=" + conversationId + ", promptId=" + promptId + ", messageId=" + messageId
                + ", chars=" + text.length() + ", model=" + model + ", usage=" + usage + ", replayed=" + replayed + "}";
    }
}
