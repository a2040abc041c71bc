package dev.parley.api.values;

import dev.parley.api.ModelParameters;

import java.util.List;
import java.util.Objects;

/**
 * What a turn asks of a model. Immutable and thread safe.
 *
 * @param model the registered model name
 * @param messages system message, history, additional context and prompt, in order
 * @param parameters how the model is asked to answer: the conversation's parameters with the turn's own over them
 *                   ({@link ModelParameters#NONE} for none); a provider passes each one set to its model
 */
public record ModelRequest(String model, List<ModelMessage> messages, ModelParameters parameters) {
    public ModelRequest {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(parameters, "parameters");
        messages = List.copyOf(messages);
    }

    /** A request with no model parameters. */
    public ModelRequest(String model, List<ModelMessage> messages) {
        this(model, messages, ModelParameters.NONE);
    }
}
