package dev.parley.api.spi;

import dev.parley.api.Usage;

import java.util.Objects;

/**
 * A model's answer. Immutable and thread safe.
 *
 * @param text the reply text
 * @param usage the usage the provider reported, or null when it reported none
 */
public record ModelResponse(String text, Usage usage) {
    public ModelResponse {
        Objects.requireNonNull(text, "text");
    }

    @Override
    public String toString() {
        return "ModelResponse{chars=" + text.length() + ", usage=" + usage + "}";
    }
}
