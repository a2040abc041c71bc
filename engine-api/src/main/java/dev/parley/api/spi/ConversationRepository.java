package dev.parley.api.spi;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.HistoryMessage;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The conversations and their messages, as a {@link ConversationStore} keeps them: one of the focused parts a
 * store is made of. Every method is atomic and thread safe; failures are
 * {@link dev.parley.api.StoreFailureException}s. Deleted conversations are soft-deleted: no read or list returns
 * them, and no write changes them.
 */
public interface ConversationRepository {

    /** Stores a new conversation and its creation event, in one transaction. */
    void insert(ConversationInfo conversation, AuditEvent created);

    /** The live conversation with that id. */
    Optional<ConversationInfo> find(String conversationId);

    /**
     * Applies a patch to a live conversation in one atomic step: only the fields the patch sets or clears change,
     * so concurrent patches of different fields, from any engine, all take effect. Totals are untouched. Empty
     * when not live. The event is stored in the same transaction, only when the patch was applied.
     */
    Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                              AuditEvent updated);

    /**
     * Soft-deletes a live conversation and stores the event in the same transaction; false (and no event) when
     * it is not live.
     */
    boolean delete(String conversationId, Instant at, AuditEvent deleted);

    /** The live conversations the filter lets through, newest first (creation time, then id, descending). */
    Page<ConversationInfo> list(ConversationFilter filter, PageRequest page);

    /**
     * Up to {@code limit} messages of the conversation with a sequence below {@code beforeSequence}, newest
     * first. This is how context is built without loading the whole history, so it must cost the same however
     * long the conversation is.
     */
    List<Message> recentMessages(String conversationId, long beforeSequence, int limit);

    /**
     * What {@link #recentMessages} returns, reduced to what a turn's context needs (sequence, role, text, tokens):
     * the engine builds context with this. The default maps {@link #recentMessages}; a store may read only those
     * columns. The same cost rule applies.
     */
    default List<HistoryMessage> recentHistory(String conversationId, long beforeSequence, int limit) {
        List<Message> messages = recentMessages(conversationId, beforeSequence, limit);
        List<HistoryMessage> history = new java.util.ArrayList<>(messages.size());
        for (Message m : messages) {
            history.add(HistoryMessage.of(m));
        }
        return history;
    }

    /** One page of the conversation's messages, oldest first. */
    Page<Message> messages(String conversationId, PageRequest page);

    /**
     * Stores a conversation exported from this or another store as it was: its id, times and totals, and its
     * messages with their ids, numbers, statuses, tags, usage and credits, so that exporting it again gives the
     * same export. The messages are numbered 1, 2, 3, … and a turn sent later continues after the last. Atomic
     * with the event: all of it is stored, or none.
     *
     * <p>The default refuses, for stores written before imports existed.
     *
     * @return false, storing nothing, when a conversation with that id exists, live or deleted
     * @throws UnsupportedOperationException when the store does not import conversations
     */
    default boolean importConversation(ConversationInfo conversation, List<Message> messages, AuditEvent imported) {
        throw new UnsupportedOperationException("this store does not import conversations");
    }

    /**
     * As {@link #importConversation(ConversationInfo, List, AuditEvent)}, with the conversation's summaries
     * ({@link SummaryLog}), stored in the same transaction. The default stores an import without summaries and
     * refuses one with them.
     *
     * @throws UnsupportedOperationException when the store does not import conversations, or there are summaries
     *                                       and it does not keep them
     */
    default boolean importConversation(ConversationInfo conversation, List<Message> messages,
                                       List<dev.parley.api.compaction.Summary> summaries, AuditEvent imported) {
        if (!summaries.isEmpty()) {
            throw new UnsupportedOperationException("this store does not import summaries");
        }
        return importConversation(conversation, messages, imported);
    }
}
