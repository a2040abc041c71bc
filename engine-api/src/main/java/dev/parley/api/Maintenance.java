package dev.parley.api;

import dev.parley.api.retention.PurgeReport;
import dev.parley.api.retention.RetentionRule;

/**
 * Work a host schedules on the store, outside any caller's turn: retention purges and the erasure of one user's
 * data. From {@link ConversationEngine#maintenance()}; an operator's API, so it checks no {@link Caller}. Thread
 * safe; a purge may run beside turns and beside the same purge on another engine sharing the store.
 *
 * <p>Each conversation is removed in short transactions: first it is hidden (soft-deleted, if it was not), then
 * its messages and then its message-id claims go a batch at a time, then its stream lock, the credit holds a
 * database keeps for it and its row, with an audit event ({@code CONVERSATION_PURGED}, detail
 * {@code retention, messages=N} or {@code erasure, messages=N}) in the last one; holds kept in the JVM lapse with
 * their lease. No transaction deletes more than one batch of messages or claims, so turns of other conversations
 * never wait long (its violations' excerpts, and for an erasure its ledger entries, change in one statement each). A purge that stops half way (the JVM killed,
 * the database gone) leaves a hidden conversation with fewer messages, which the next purge finishes.
 *
 * <p>What stays: the audit trail (events carry no content), the conversation's policy violations with their
 * excerpts removed, credit ledger entries and usage rows (amounts, no content).
 */
public interface Maintenance {

    /**
     * Hard-deletes the conversations the rule selects, as the class comment says.
     *
     * @return what was removed
     * @throws InvalidRequestException when {@code rule} is null
     * @throws UnsupportedOperationException when the engine's store does not purge
     */
    PurgeReport purge(RetentionRule rule);

    /**
     * Erases one user's data, for a privacy request: every conversation they own in the organization, live or
     * deleted, is hard-deleted as a purge deletes it; in the organization's other conversations, the messages of
     * turns tagged with their id ({@link Prompt.Builder#user(String)}) lose their text and tags. Credit ledger
     * entries of their conversations keep their amounts but lose the conversation and message they were for;
     * their usage rows and the audit events they acted in name a random pseudonym instead of them, the same for
     * all of them in this erasure and never seen again. An audit event records the erasure in each conversation
     * it touched ({@code USER_ERASED}).
     *
     * @return what was removed
     * @throws InvalidRequestException naming {@code organizationId} or {@code userId} when malformed
     * @throws UnsupportedOperationException when the engine's store does not erase
     */
    PurgeReport erase(String organizationId, String userId);
}
