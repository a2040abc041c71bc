package dev.parley.api.spi;

import java.util.List;
import java.util.Objects;

/**
 * What a turn asks of a model. Immutable and thread safe.
 *
 * @param model the registered model name
 * @param messages system message, history, additional context and prompt, in order
 */
public record ModelRequest(String model, List<ModelMessage> messages) {
    public ModelRequest {
        Objects.requireNonNull(model, "model");
        messages = List.copyOf(messages);
    }
}
