package dev.parley.api.spi;

import dev.parley.api.compaction.Summary;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.values.AuditEvent;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The summaries of a {@link ConversationStore} that keeps them, and the claim that lets one engine at a time
 * compact a conversation ({@link dev.parley.api.compaction.Compaction}). Every method is thread safe and has one
 * effect across every engine sharing the store. A summary is stored whole, with its charge and usage entry, or not
 * at all. A purge or an erasure that removes a conversation, or a user's text from it, removes its summaries and
 * ends its claim, so that a summary written from text read before cannot be stored after.
 *
 * <p>The compaction claim is a lease, measured as {@link ConversationStore}'s leases are: a claim whose holder died
 * lapses, and another engine may then claim the conversation.
 */
public interface SummaryLog {

    /** The conversation's summary covering the most history; empty when it has none or is not live. */
    Optional<Summary> latestSummary(String conversationId);

    /** Every summary of the conversation, oldest first (by the last message each covers). */
    List<Summary> summaries(String conversationId);

    /**
     * Claims the conversation for a compaction under {@code token}: true when no other live claim holds it and no
     * failure deferred it past {@code at}.
     *
     * @param lease how long the claim lasts unless committed or given up
     */
    boolean claimCompaction(String conversationId, String token, Instant at, Duration lease);

    /** Extends the claim under {@code token} while it still holds; false when it does not any more. */
    boolean renewCompaction(String conversationId, String token, Instant at, Duration lease);

    /**
     * Stores a summary and ends the claim, in one transaction, with the charge settled on its hold's accounts (for a
     * store that is a {@link CreditLedger}), its usage recorded (for a store that is a {@link UsageLedger}) and the
     * event. Nothing is stored, and the hold is left for the caller to release, when the claim under {@code token}
     * is no longer held, the conversation is not live, or the summary does not cover more history than the latest
     * one.
     *
     * @param charge what the summarizer's call cost, on the hold it reserved; null for a call no budget metered
     * @param meter what the usage ledger records of the call; null to record nothing
     * @return the stored summary, with the credits its charge cost; empty when nothing was stored
     */
    Optional<Summary> commitSummary(String token, Summary summary, @Nullable TurnCharge charge,
                                    @Nullable UsageEntry meter, AuditEvent event);

    /**
     * Ends the claim under {@code token}, if it still holds, after a failed compaction, and counts the failure: the
     * conversation is not claimed again before {@code retryAfter} times 2 to the power of its failures since its last
     * summary (at most 64 times {@code retryAfter}) has passed since {@code at}. A summarizer call that was made and
     * withheld is charged and recorded in the usage ledger, and the event stored, in the same transaction, whether
     * the claim still held or not (a conversation that is gone is charged nothing and gets no event).
     *
     * @param event what failed (a {@link AuditEvent.Type#COMPACTION_FAILED} event)
     * @param spent the call made, if one was; null when the compaction failed before the summarizer answered
     * @return what the call was charged; {@link dev.parley.api.Credits#unmetered()} for none
     */
    dev.parley.api.Credits failCompaction(String conversationId, String token, Instant at, Duration retryAfter,
                                          AuditEvent event, @Nullable Spent spent);

    /**
     * A summarizer call whose summary was not stored (a POST rule withheld it, or it was empty), charged as a blocked
     * turn is.
     *
     * @param callId the id its ledger entry names as its message
     * @param usage the tokens it used
     * @param charge its cost on the hold it reserved; null for a call no budget metered
     * @param meter what the usage ledger records of it; null to record nothing
     */
    record Spent(String callId, dev.parley.api.Usage usage, @Nullable TurnCharge charge, @Nullable UsageEntry meter) {
        public Spent {
            java.util.Objects.requireNonNull(callId, "callId");
            java.util.Objects.requireNonNull(usage, "usage");
        }
    }

    /** Ends the claim under {@code token}, if it still holds, when there was nothing to summarize. */
    void releaseCompaction(String conversationId, String token);
}
