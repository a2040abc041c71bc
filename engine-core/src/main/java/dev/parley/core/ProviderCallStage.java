package dev.parley.core;

import dev.parley.api.ModelUnavailableException;
import dev.parley.api.ParleyException;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.ModelRequest;
import dev.parley.api.spi.ModelResponse;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.spi.Turn;
import dev.parley.api.spi.TurnResult;

/**
 * Calls the turn's model with the request the context stage built; always the last stage. Any failure of the
 * model (a timeout, an HTTP error, a refusal) becomes a {@link ModelUnavailableException} carrying the
 * provider's message, never the provider's raw exception. Stateless and thread safe.
 */
public final class ProviderCallStage implements PromptStage {

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        if (turn.request().isEmpty()) {
            throw new IllegalStateException("the turn reached " + name() + " without a model request: "
                    + "the pipeline needs a ContextStage (or a stage that builds the request) before it");
        }
        ModelProvider model = chain.services().model(turn.model(), turn.conversation(), "model");
        ModelResponse response;
        try {
            response = model.chat(new ModelRequest(turn.model(), turn.request()));
        } catch (ParleyException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelUnavailableException(turn.model(), describe(e), e);
        }
        if (response == null) {
            throw new ModelUnavailableException(turn.model(), "the model returned no response", null);
        }
        return TurnResult.fromModel(turn, response.text(), response.usage());
    }

    /** The most telling message of a provider failure: its own, else the first cause's that has one. */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                return t.getMessage();
            }
        }
        return e.getClass().getSimpleName();
    }
}
