package dev.parley.api;

/**
 * Receives a streamed reply: deltas in order, then exactly one of {@link #onComplete} or {@link #onError}.
 *
 * <p>Threads: the calls of one stream never overlap and come in order. Deltas are delivered on the thread the
 * model streams on: the stream's own engine thread for models that stream synchronously (such as the scripted
 * test model), the provider's callback thread for LangChain4j streaming models. The terminal call comes from
 * the stream's engine thread, after the last delta. Either way each stream has its own threads, so a slow
 * listener slows only its own stream. An exception thrown by a listener is logged and otherwise ignored: it
 * cannot stop the turn from being stored, nor keep the conversation locked. The conversation is unlocked
 * before the terminal call, so a listener may start the next turn from {@link #onComplete}.
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
     * contract, or when a stage or the model threw an {@link Error}, which is then its cause (the engine rethrows
     * the Error on the stream's thread after this call).
     */
    void onError(RuntimeException error);
}
