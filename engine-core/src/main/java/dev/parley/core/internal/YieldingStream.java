package dev.parley.core.internal;

/**
 * A streamed turn that holds its conversation's stream lock and can give it up while it waits: a re-stream of a
 * message id whose turn runs elsewhere waits for that turn without keeping every other turn of the conversation
 * out. Engine-internal (the idempotency stage uses it); not an API for hosts.
 */
public interface YieldingStream {

    /** Gives the stream lock up while the turn waits; does nothing when already given up. */
    void yieldLock();

    /**
     * Takes the lock back after a wait; does nothing when it was not given up.
     *
     * @throws dev.parley.api.ConversationLockedException when another stream took the conversation meanwhile
     */
    void reclaimLock();
}
