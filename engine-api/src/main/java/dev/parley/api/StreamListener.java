package dev.parley.api;

/**
 * Receives a streamed reply: deltas in order, then exactly one of {@link #onComplete} or {@link #onError}.
 *
 * <p>Every call of one stream comes from that stream's own engine thread, one at a time, so a slow listener
 * slows only its own stream. An exception thrown by a listener is logged and otherwise ignored: it cannot stop
 * the turn from being stored, nor keep the conversation locked. The conversation is unlocked before the
 * terminal call, so a listener may start the next turn from {@link #onComplete}.
 */
public interface StreamListener {

    /** A piece of the reply, in order. */
    void onDelta(String delta);

    /**
     * The stream ended and the reply is stored: {@link MessageStatus#COMPLETE}, or {@link MessageStatus#CANCELLED}
     * with the part that had arrived when it was cancelled.
     */
    void onComplete(Reply reply);

    /**
     * The stream failed; nothing of the turn is in the history. A {@link ParleyException} for every failure of the
     * request (the model, the store, a policy); an {@link IllegalStateException} when a pipeline stage broke its
     * contract.
     */
    void onError(RuntimeException error);
}
