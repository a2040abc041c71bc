package dev.parley.api;

/** Receives a streamed reply: deltas in order, then exactly one of {@link #onComplete} or {@link #onError}. */
public interface StreamListener {

    /** A piece of the reply, in order. */
    void onDelta(String delta);

    /** The stream ended; the reply is stored. */
    void onComplete(Reply reply);

    /** The stream failed. */
    void onError(ParleyException error);
}
