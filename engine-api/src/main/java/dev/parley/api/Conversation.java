package dev.parley.api;

/**
 * A handle on one conversation, acting for the {@link Caller} it was obtained for. The handle holds only the id:
 * each method reads the current state, so a handle stays valid while the conversation lives and every method
 * throws {@link ConversationNotFoundException} once it is deleted. Thread safe.
 */
public interface Conversation {

    /** The conversation id. */
    String id();

    /** The conversation's current data. */
    ConversationInfo info();

    /**
     * Runs one turn: builds the model request from steering, the newest history that fits the token budget,
     * the additional context and the prompt; calls the model; stores the prompt and the reply with their token
     * counts and updates the totals, all or nothing.
     *
     * @throws InvalidRequestException for an unknown model
     * @throws AccessDeniedException when the caller is not a member of the conversation's workspace
     * @throws ModelUnavailableException when the model fails; nothing of the turn is stored
     * @throws ConversationLockedException when a stream is active on the conversation
     */
    Reply send(Prompt prompt);

    /**
     * Streams one turn's reply through {@code listener}, on an engine thread, and returns at once. The turn runs
     * through the same pipeline as {@link #send}; a replayed message id delivers the stored reply as one delta.
     * At most one stream is active per conversation, across every engine sharing the store, and while it is
     * active {@code send} is refused too. The stream renews its lock while it runs; a stream that loses it anyway
     * (its engine could not renew it in time and another engine took it) fails with
     * {@link ConversationLockedException} through the listener and stores nothing of its turn.
     *
     * @throws ConversationLockedException at once, when another stream is active on the conversation
     * @throws InvalidRequestException for an unknown model
     */
    StreamHandle stream(Prompt prompt, StreamListener listener);

    /**
     * Cancels the conversation's active stream, whichever engine sharing the store runs it; a no-op when none is
     * active. The output so far is stored as the reply with status CANCELLED.
     */
    void cancelStream();

    /**
     * Cancels the stream of the message {@code messageId} ({@link StreamHandle#promptId()}), whichever engine
     * sharing the store runs it; a no-op when that stream is not the active one (it ended, or another began), so a
     * late cancel cannot stop someone else's stream. A cancel through another engine lands within half a second.
     *
     * @throws InvalidRequestException naming {@code messageId} when it is not a valid id
     */
    void cancelStream(String messageId);

    /** One page of the stored messages, oldest first. */
    Page<Message> messages(PageRequest page);

    /**
     * The whole conversation as data: its metadata and every stored message, oldest first, read page by page in
     * the store's order; {@link ConversationExport#toJson()} writes it. A turn that commits while the export reads
     * may be in it or not, never half. Anyone who may read the conversation may export it.
     */
    ConversationExport export();

    /**
     * The policy violations of this conversation, newest first.
     *
     * @throws AccessDeniedException unless the caller is an organization admin or an admin of the conversation's
     *                               workspace: a member sees the conversation, not its compliance record
     * @throws IllegalStateException when the engine's store keeps no violations
     */
    Page<dev.parley.api.policy.Violation> violations(PageRequest page);

    /**
     * Changes steering or model; omitted fields keep their value, nulls clear them.
     *
     * @return the updated data
     * @throws InvalidRequestException when the patch changes no field, or names an unknown model or steering id
     */
    ConversationInfo update(ConversationPatch patch);

    /** Soft-deletes the conversation: it disappears from every read and list; its data stays in the store. */
    void delete();
}
