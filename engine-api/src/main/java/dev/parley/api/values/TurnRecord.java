package dev.parley.api.values;

import dev.parley.api.Message;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;

import java.time.Instant;
import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A finished turn for {@link ConversationStore#commitTurn}. Immutable and thread safe.
 *
 * @param conversationId the conversation
 * @param promptId the turn's message id
 * @param prompt the user message (its sequence is assigned by the store)
 * @param reply the reply message (its sequence is assigned by the store)
 * @param usage what the turn adds to the conversation's totals
 * @param inHistory false for a turn that is counted but leaves no message in the history
 * @param at the time of the commit
 * @param claimToken the token of the turn's claim ({@link TurnClaim.Claimed#token()}), or null when the turn
 *                   claimed nothing (a pipeline without the idempotency stage, or an id only the engine knows)
 * @param streamsEnded for a send: the conversation's {@link ConversationStore.StreamStatus#streamsEnded()} when the
 *                     turn began. The store then commits only while no stream holds the conversation and none
 *                     ended since, so that a send and a stream never both store a turn they ran side by side.
 *                     Empty for a stream's own turn, which its lock fences.
 * @param events audit events to store in the turn's own transaction (a policy violation, say): stored with the
 *               turn, or not at all when the turn is not stored
 * @param fingerprint for a turn that claimed nothing, the prompt's idempotency fingerprint to keep with its id, so
 *                    that a later resend of that id with another prompt is still refused; empty when there is none.
 *                    A claimed turn keeps the fingerprint of its claim.
 */
public record TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                         boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded,
                         java.util.List<AuditEvent> events, String fingerprint) {

    /** A turn with no fingerprint of its own to keep. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded,
                      java.util.List<AuditEvent> events) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded, events, "");
    }

    /** A turn with no events of its own. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded, java.util.List.of());
    }

    /** A turn that is not fenced against streams. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at, @Nullable String claimToken) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, java.util.OptionalLong.empty());
    }

    /** A turn that made no claim. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, null);
    }

    public TurnRecord {
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(promptId, "promptId");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(reply, "reply");
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(streamsEnded, "streamsEnded");
        events = java.util.List.copyOf(events);
        Objects.requireNonNull(fingerprint, "fingerprint");
        for (AuditEvent e : events) {
            if (!e.conversationId().equals(conversationId)) {
                throw new IllegalArgumentException("event " + e.id() + " is of conversation " + e.conversationId()
                        + ", not of the turn's " + conversationId);
            }
        }
    }

    /** The same turn with these events stored in its transaction. */
    public TurnRecord withEvents(java.util.List<AuditEvent> turnEvents) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                turnEvents, fingerprint);
    }

    /** The same unclaimed turn keeping this prompt fingerprint with its id. */
    public TurnRecord withFingerprint(String promptFingerprint) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                events, promptFingerprint);
    }

    /** The same turn, fenced against streams by the count of streams ended on the conversation when it began. */
    public TurnRecord withStreamsEnded(long count) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken,
                java.util.OptionalLong.of(count), events, fingerprint);
    }
}
