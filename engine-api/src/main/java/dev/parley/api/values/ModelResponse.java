package dev.parley.api.values;

import dev.parley.api.Usage;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * A model's answer. Immutable and thread safe.
 *
 * @param text the reply text
 * @param usage the usage the provider reported, or null when it reported none
 */
public record ModelResponse(String text, @Nullable Usage usage) {
    public ModelResponse {
        Objects.requireNonNull(text, "text");
    }

    @Override
    public String toString() {
        return "ModelResponse{chars=" + text.length() + ", usage=" + usage + "}";
    }
}
