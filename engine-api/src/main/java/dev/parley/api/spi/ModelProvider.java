package dev.parley.api.spi;

import java.util.Optional;

/**
 * A chat model the engine can call. engine-core's {@code LangChain4jModel} adapts any LangChain4j chat model;
 * engine-testing's {@code ScriptedModel} answers from a script. Implementations must be thread safe.
 */
public interface ModelProvider {

    /**
     * Answers a request. Any exception thrown here reaches the caller as a
     * {@link dev.parley.api.ModelUnavailableException} carrying its message.
     */
    ModelResponse chat(ModelRequest request);

    /**
     * Streams an answer to {@code handler}. The default answers with {@link #chat} and delivers the whole reply
     * as one delta, so every model can serve a stream; models that stream for real override it. May block the
     * calling thread until the stream ends, or return at once and call the handler from another thread.
     */
    default void stream(ModelRequest request, StreamingHandler handler) {
        ModelResponse response;
        try {
            response = chat(request);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        if (!response.text().isEmpty()) {
            handler.onDelta(response.text());
        }
        handler.onComplete(response);
    }

    /** This model's own token counter, when it knows better than the engine's default. */
    default Optional<TokenCounter> tokenCounter() {
        return Optional.empty();
    }
}
