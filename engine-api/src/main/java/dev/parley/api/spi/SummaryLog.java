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
 * compact a conversation ({@link dev.parley.api.compaction.Compaction}). Every method is atomic and thread safe,
 * across every engine sharing the store. A summary is stored whole, with its charge and usage entry, or not at all;
 * a purge or an erasure that removes a conversation, or a user's text from it, removes its summaries too.
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
     * Ends the claim under {@code token}, if it still holds, after a failed compaction: the conversation is not
     * claimed again before {@code retryAfter} has passed since {@code at}, and the failure is counted.
     */
    void failCompaction(String conversationId, String token, Instant at, Duration retryAfter);

    /** Ends the claim under {@code token}, if it still holds, when there was nothing to summarize. */
    void releaseCompaction(String conversationId, String token);
}
