package dev.parley.api.spi;

import dev.parley.api.values.AuditEvent;

import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;

import org.jspecify.annotations.Nullable;

/**
 * Hard deletion, for retention purges and erasure: a focused part a {@link ConversationStore} may implement
 * beside the others. The engine drives it (see {@link dev.parley.api.Maintenance}); every method is thread safe,
 * and none holds more than a batch of rows in one transaction.
 */
public interface ConversationPurges {

    /** The audit event of one conversation's purge or erasure, made once the store knows its scope and count. */
    @FunctionalInterface
    interface EventFactory {
        /** The event for a conversation of that organization and workspace, counting {@code messages}. */
        AuditEvent event(String organizationId, String workspaceId, long messages);
    }

    /**
     * Up to {@code limit} ids, ascending, above {@code afterId} (null: from the first), of the conversations of
     * the organization (and workspace, when not null) that, live or deleted, last changed before
     * {@code inactiveBefore}, or were deleted before {@code deletedBefore}; a null bound selects none of that kind.
     */
    List<String> purgeCandidates(String organizationId, @Nullable String workspaceId, @Nullable Instant inactiveBefore,
                                 @Nullable Instant deletedBefore, @Nullable String afterId, int limit);

    /** Up to {@code limit} ids, ascending, above {@code afterId}, of the conversations, live or deleted, that the user owns. */
    List<String> ownedBy(String organizationId, String ownerId, @Nullable String afterId, int limit);

    /** Up to {@code limit} ids, ascending, above {@code afterId}, of the organization's conversations, live or deleted. */
    List<String> inOrganization(String organizationId, @Nullable String afterId, int limit);

    /**
     * Hard-deletes one conversation: hides it (soft-deletes it, if live) in a first transaction, deletes its
     * messages, then its message-id claims, at most {@code batchSize} per transaction, then in a last one its
     * stream lock, credit holds and row, removes its violations' excerpts, and appends {@code purged}. With {@code unlinkLedger},
     * its credit ledger entries lose their conversation and message ids in that last transaction. A turn that
     * commits while the conversation is hidden fails, as a turn of a deleted conversation does.
     *
     * @return the messages deleted; empty when no conversation has that id
     */
    OptionalLong purge(String conversationId, int batchSize, boolean unlinkLedger, EventFactory purged);

    /**
     * Removes the text (it becomes empty) and the user and source tags of the conversation's messages whose user
     * tag is {@code userTag}, at most {@code batchSize} per transaction, and appends {@code erased} in the last
     * one when any were.
     *
     * @return the messages changed
     */
    long eraseTagged(String conversationId, String userTag, int batchSize, EventFactory erased);

    /**
     * Replaces the user's id with {@code pseudonym} in the organization's usage rows and as the actor of its
     * audit events.
     */
    void unlinkUser(String organizationId, String userId, String pseudonym);
}
