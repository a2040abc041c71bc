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
 * @param violations policy violations to store in the turn's own transaction, by a store that is a
 *                   {@link dev.parley.api.spi.ViolationLog}: with the turn, or not at all
 * @param blocked for a turn a policy blocked, the rule and phase: the store keeps no message of it
 *                ({@code inHistory} is false, and {@code prompt} and {@code reply} are empty placeholders), adds its
 *                usage to the totals, stores its events and violations, and settles its claim as blocked, so that
 *                {@link dev.parley.api.spi.TurnLedger#claimTurn} answers {@link TurnClaim.Blocked} for the id from
 *                then on; null for a turn that was not blocked
 * @param charge what the turn's commit charges its hold's accounts, by a store that is a
 *               {@link dev.parley.api.spi.CreditLedger}: settled with the turn, or not at all; null for a turn no
 *               budget metered
 * @param meter what the store's {@link dev.parley.api.spi.UsageLedger} records of the turn beyond this record (its
 *              caller, model and prompt tokens), in the turn's own transaction; null for a turn not to record there
 */
public record TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                         boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded,
                         java.util.List<AuditEvent> events, String fingerprint,
                         java.util.List<dev.parley.api.policy.Violation> violations,
                         dev.parley.api.policy.@Nullable PolicyBlock blocked,
                         dev.parley.api.credits.@Nullable TurnCharge charge,
                         dev.parley.api.usage.@Nullable UsageEntry meter) {

    /** A turn no budget metered, which the usage ledger does not record. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded,
                      java.util.List<AuditEvent> events, String fingerprint,
                      java.util.List<dev.parley.api.policy.Violation> violations,
                      dev.parley.api.policy.@Nullable PolicyBlock blocked) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded, events,
                fingerprint, violations, blocked, null, null);
    }

    /** A turn with no violations that was not blocked. */
    public TurnRecord(String conversationId, String promptId, Message prompt, Message reply, Usage usage,
                      boolean inHistory, Instant at, @Nullable String claimToken, java.util.OptionalLong streamsEnded,
                      java.util.List<AuditEvent> events, String fingerprint) {
        this(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded, events,
                fingerprint, java.util.List.of(), null);
    }

    /**
     * A turn a policy blocked: no message is stored, the usage is added to the totals, and the claim under
     * {@code claimToken} (if any) is settled as blocked.
     */
    public static TurnRecord blocked(String conversationId, String promptId, Usage usage, Instant at,
                                     @Nullable String claimToken, dev.parley.api.policy.PolicyBlock block,
                                     java.util.List<dev.parley.api.policy.Violation> violations,
                                     java.util.List<AuditEvent> events) {
        Objects.requireNonNull(block, "block");
        Message none = new Message(promptId, conversationId, 0, dev.parley.api.Role.USER, "", 0, null, null, null,
                dev.parley.api.MessageStatus.FAILED, at, null);
        Message noReply = new Message(promptId, conversationId, 0, dev.parley.api.Role.ASSISTANT, "", 0, null, null,
                null, dev.parley.api.MessageStatus.FAILED, at, usage);
        return new TurnRecord(conversationId, promptId, none, noReply, usage, false, at, claimToken,
                java.util.OptionalLong.empty(), events, "", violations, block);
    }

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
        violations = java.util.List.copyOf(violations);
        if (blocked != null && inHistory) {
            throw new IllegalArgumentException("a blocked turn leaves no message in the history");
        }
        for (dev.parley.api.policy.Violation v : violations) {
            if (!v.conversationId().equals(conversationId) || !v.messageId().equals(promptId)) {
                throw new IllegalArgumentException("violation " + v.id() + " is not of this turn");
            }
        }
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
                turnEvents, fingerprint, violations, blocked, charge, meter);
    }

    /** The same unclaimed turn keeping this prompt fingerprint with its id. */
    public TurnRecord withFingerprint(String promptFingerprint) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                events, promptFingerprint, violations, blocked, charge, meter);
    }

    /** The same turn, fenced against streams by the count of streams ended on the conversation when it began. */
    public TurnRecord withStreamsEnded(long count) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken,
                java.util.OptionalLong.of(count), events, fingerprint, violations, blocked, charge, meter);
    }

    /** The same turn with these violations stored in its transaction. */
    public TurnRecord withViolations(java.util.List<dev.parley.api.policy.Violation> turnViolations) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                events, fingerprint, turnViolations, blocked, charge, meter);
    }

    /** The same turn, charging its hold's accounts in its commit. */
    public TurnRecord withCharge(dev.parley.api.credits.TurnCharge turnCharge) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                events, fingerprint, violations, blocked, java.util.Objects.requireNonNull(turnCharge, "charge"), meter);
    }

    /** The same turn, recorded in the store's usage ledger with this caller, model and prompt count. */
    public TurnRecord withMeter(dev.parley.api.usage.UsageEntry entry) {
        return new TurnRecord(conversationId, promptId, prompt, reply, usage, inHistory, at, claimToken, streamsEnded,
                events, fingerprint, violations, blocked, charge, java.util.Objects.requireNonNull(entry, "meter"));
    }
}
