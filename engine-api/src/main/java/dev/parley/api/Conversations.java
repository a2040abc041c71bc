package dev.parley.api;

/**
 * The conversations one {@link Caller} may reach, from {@link ConversationEngine#as(Caller)}. Thread safe.
 */
public interface Conversations {

    /** The caller this view acts for. */
    Caller caller();

    /**
     * Creates a conversation owned by the caller.
     *
     * @throws AccessDeniedException when the caller is no member of the workspace
     * @throws RepositoryNotFoundException when the repository is unknown
     * @throws InvalidRequestException for an orphan repository (no workspace), an unknown model or steering id
     */
    Conversation create(NewConversation request);

    /**
     * The conversation with that id.
     *
     * @throws ConversationNotFoundException when it does not exist in the caller's organization or is deleted
     * @throws AccessDeniedException when it exists but the caller may not see it
     */
    Conversation get(String conversationId);

    /**
     * Stores a conversation from an export, as it was: same id, owner, scope, steering, times, totals and
     * messages (exporting it again gives the same JSON). For moving conversations between stores, say from H2 to
     * PostgreSQL. Prompt ids of imported turns stay in use: sending one again is refused, never answered twice.
     *
     * @return the imported conversation
     * @throws AccessDeniedException unless the caller is an admin of the export's organization, or its owner and
     *                               a member of its workspace
     * @throws InvalidRequestException naming {@code conversation.id} when a conversation with that id exists in
     *                                 the store (live or deleted): nothing is stored
     * @throws UnsupportedOperationException when the engine's store does not import conversations
     */
    Conversation importConversation(ConversationExport export);

    /** The conversations the caller may see, newest first. */
    Page<ConversationInfo> list(ConversationQuery query);

    /**
     * The policy violations of every conversation of a workspace of the caller's organization, newest first, deleted
     * conversations' included (they are compliance records).
     *
     * @throws AccessDeniedException unless the caller is an organization admin or an admin of the workspace
     * @throws InvalidRequestException naming {@code workspaceId} when it is blank or malformed
     * @throws IllegalStateException when the engine's store keeps no violations (it is no
     *                               {@link dev.parley.api.spi.ViolationLog})
     */
    Page<dev.parley.api.policy.Violation> violations(String workspaceId, PageRequest page);

    /**
     * The usage of the caller's organization that the caller may see, summed per day and per the query's grouping,
     * newest day first: an organization admin sees all of it; a workspace admin that workspace's (the query must
     * name it); anyone else only their own turns (a query of another user is refused, one of no user is of theirs).
     *
     * @throws AccessDeniedException when the query asks for usage the caller may not see
     * @throws IllegalStateException when the engine's store keeps no usage ledger (it is no
     *                               {@link dev.parley.api.spi.UsageLedger})
     */
    Page<dev.parley.api.usage.UsageRow> usage(dev.parley.api.usage.UsageQuery query, PageRequest page);
}
