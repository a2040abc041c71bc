package dev.parley.api.values;

/**
 * Receives a model's streamed answer: {@link #onDelta} for each piece in order, then exactly one of
 * {@link #onComplete} or {@link #onError}. A provider checks {@link #cancelled()} between pieces and stops
 * soon after it turns true (then it still calls {@link #onComplete} with what it has, or {@link #onError}).
 * Implementations are called from the provider's thread and are thread safe.
 */
public interface StreamingHandler {

    /** The next piece of the reply. */
    void onDelta(String delta);

    /** The stream ended; {@code response} holds the whole text and any reported usage. */
    void onComplete(ModelResponse response);

    /** The stream failed. */
    void onError(Throwable error);

    /** Whether the consumer wants the stream to stop. */
    boolean cancelled();
}
