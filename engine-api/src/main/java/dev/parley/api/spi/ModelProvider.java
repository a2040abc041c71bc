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

    /** This model's own token counter, when it knows better than the engine's default. */
    default Optional<TokenCounter> tokenCounter() {
        return Optional.empty();
    }
}
