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

    /** The conversations the caller may see, newest first. */
    Page<ConversationInfo> list(ConversationQuery query);
}
