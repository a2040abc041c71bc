package dev.parley.api.spi;

import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;

import java.util.Optional;

/**
 * A chat model the engine can call. engine-core's {@code LangChain4jModel} adapts any LangChain4j chat model;
 * engine-testing's {@code ScriptedModel} answers from a script. Implementations must be thread safe.
 */
public interface ModelProvider {

    /**
     * Answers a request. Any exception thrown here reaches the caller as a
     * {@link dev.parley.api.ModelUnavailableException} that names the kind of failure (timeout, HTTP status,
     * connection refused, malformed response) but not the exception's own message, which providers fill with
     * partial API keys, project ids and upstream URLs; the exception is its cause.
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

    /**
     * The provider's own name of the model (for example {@code gpt-4o-mini}), whatever name it is registered
     * under in the engine. The engine's default token counter picks its encoding by this name; empty means the
     * registered name is used instead.
     */
    default Optional<String> modelName() {
        return Optional.empty();
    }

    /**
     * The model's context window in tokens: the most that one request (history, steering, additional context and
     * prompt) may hold. A turn's {@code contextSize} may not exceed it, and a prompt that cannot fit it is refused
     * before the call. Empty means the engine's default window
     * ({@code ConversationEngine.Builder#defaultContextWindow}).
     */
    default java.util.OptionalInt contextWindow() {
        return java.util.OptionalInt.empty();
    }
}
