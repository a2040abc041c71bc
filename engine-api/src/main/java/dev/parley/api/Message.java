package dev.parley.api;

import java.time.Instant;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A stored message of a conversation. Immutable and thread safe.
 *
 * @param id the message id: the prompt's id for a user message, an engine-generated id for a reply
 * @param conversationId the conversation
 * @param sequence its position in the conversation, increasing from 1
 * @param role who wrote it
 * @param text its text as stored (a reply is stored as the model wrote it, markdown included)
 * @param tokens its own token count, counted once when stored
 * @param model the model that wrote a reply, or null for a user message
 * @param user the turn's user tag, or null
 * @param source the turn's source tag, or null
 * @param status how it ended
 * @param createdAt when it was written
 * @param usage for a reply, the usage of its whole turn; null for a user message
 * @param credits for a reply, what its whole turn was charged ({@link Credits#unmetered()} when no account was);
 *                unmetered for a user message
 */
public record Message(
        String id,
        String conversationId,
        long sequence,
        Role role,
        String text,
        int tokens,
        @Nullable String model,
        @Nullable String user,
        @Nullable String source,
        MessageStatus status,
        Instant createdAt,
        @Nullable Usage usage,
        Credits credits) {

    /** A message of an unmetered turn. */
    public Message(String id, String conversationId, long sequence, Role role, String text, int tokens,
                   @Nullable String model, @Nullable String user, @Nullable String source, MessageStatus status,
                   Instant createdAt, @Nullable Usage usage) {
        this(id, conversationId, sequence, role, text, tokens, model, user, source, status, createdAt, usage,
                Credits.unmetered());
    }

    public Message {
        Objects.requireNonNull(credits, "credits");
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(createdAt, "createdAt");
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must not be negative: " + tokens);
        }
        if (role == Role.ASSISTANT && usage == null) {
            throw new IllegalArgumentException("a reply carries its turn's usage");
        }
    }

    /** The same message at another position; stores use it to number messages as they write them. */
    public Message withSequence(long newSequence) {
        return new Message(id, conversationId, newSequence, role, text, tokens, model, user, source, status, createdAt, usage,
                credits);
    }

    /** The same reply with what its turn was charged; stores use it when they settle the charge. */
    public Message withCredits(Credits charged) {
        return new Message(id, conversationId, sequence, role, text, tokens, model, user, source, status, createdAt, usage,
                charged);
    }

    @Override
    public String toString() {
        return "Message{id=" + id + ", conversationId=" + conversationId + ", sequence=" + sequence + ", role=" + role
                + ", chars=" + text.length() + ", tokens=" + tokens + ", status=" + status + "}";
    }
}
