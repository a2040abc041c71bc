package dev.parley.api;

import dev.parley.api.internal.Checks;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * How a model is asked to answer: at most how many output tokens, at what sampling temperature, where to stop,
 * and in which format. A conversation may set them ({@link NewConversation.Builder#modelParameters},
 * {@link ConversationPatch.Builder#modelParameters}) and a prompt may override them for one turn
 * ({@link Prompt.Builder#modelParameters}); each parameter left unset falls back to the conversation's, then to
 * the model's own configuration. They reach LangChain4j as its chat request parameters. Immutable and thread safe.
 *
 * <pre>{@code
 * Prompt.text("Summarise this as JSON").modelParameters(ModelParameters.builder()
 *         .maxOutputTokens(200).temperature(0.2).responseFormat(ModelParameters.ResponseFormat.JSON).build())
 * }</pre>
 *
 * @param maxOutputTokens the most tokens the reply may have (1 to {@link Limits#MAX_OUTPUT_TOKENS}); what a budget
 *                        reserves against
 * @param temperature the sampling temperature (0 to {@link Limits#MAX_TEMPERATURE})
 * @param stopSequences where the model stops (at most {@link Limits#MAX_STOP_SEQUENCES}, each 1 to
 *                      {@link Limits#MAX_STOP_SEQUENCE_LENGTH} chars); empty for none
 * @param responseFormat plain text or a JSON object
 */
public record ModelParameters(OptionalInt maxOutputTokens, OptionalDouble temperature, List<String> stopSequences,
                              Optional<ResponseFormat> responseFormat) {
    /** No parameter set: the model's own configuration decides. */
    public static final ModelParameters NONE = new ModelParameters(OptionalInt.empty(), OptionalDouble.empty(),
            List.of(), Optional.empty());

    /** The format of a reply. */
    public enum ResponseFormat {
        /** Plain text. */
        TEXT,
        /** A JSON object (the provider's JSON mode). */
        JSON
    }

    /**
     * Checks every parameter.
     *
     * @throws InvalidRequestException naming the parameter that is out of range
     */
    public ModelParameters {
        Objects.requireNonNull(maxOutputTokens, "maxOutputTokens");
        Objects.requireNonNull(temperature, "temperature");
        Objects.requireNonNull(stopSequences, "stopSequences");
        Objects.requireNonNull(responseFormat, "responseFormat");
        if (maxOutputTokens.isPresent()
                && (maxOutputTokens.getAsInt() < 1 || maxOutputTokens.getAsInt() > Limits.MAX_OUTPUT_TOKENS)) {
            throw new InvalidRequestException("maxOutputTokens", "must be between 1 and " + Limits.MAX_OUTPUT_TOKENS);
        }
        if (temperature.isPresent() && !(temperature.getAsDouble() >= 0 && temperature.getAsDouble() <= Limits.MAX_TEMPERATURE)) {
            throw new InvalidRequestException("temperature", "must be between 0 and " + Limits.MAX_TEMPERATURE);
        }
        if (stopSequences.size() > Limits.MAX_STOP_SEQUENCES) {
            throw new InvalidRequestException("stopSequences", "must have at most " + Limits.MAX_STOP_SEQUENCES + " entries");
        }
        List<String> copy = new ArrayList<>(stopSequences.size());
        for (String stop : stopSequences) {
            if (stop == null || stop.isEmpty()) {
                throw new InvalidRequestException("stopSequences", "must not contain an empty or null entry");
            }
            // Whitespace and newlines are legitimate stop sequences; only NUL and broken UTF-16 are not.
            copy.add(Checks.optionalText("stopSequences", stop, Limits.MAX_STOP_SEQUENCE_LENGTH));
        }
        stopSequences = List.copyOf(copy);
    }

    /** The parameters set, in a fixed form: {@code ModelParameters{maxOutputTokens=200, temperature=0.2}}. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("ModelParameters{");
        maxOutputTokens.ifPresent(v -> out.append("maxOutputTokens=").append(v).append(", "));
        temperature.ifPresent(v -> out.append("temperature=").append(v).append(", "));
        if (!stopSequences.isEmpty()) {
            out.append("stopSequences=").append(stopSequences.size()).append(':');
            for (String stop : stopSequences) {
                out.append(stop.length()).append(':').append(stop);
            }
            out.append(", ");
        }
        responseFormat.ifPresent(v -> out.append("responseFormat=").append(v).append(", "));
        if (out.charAt(out.length() - 1) == ' ') {
            out.setLength(out.length() - 2);
        }
        return out.append('}').toString();
    }

    /** A builder with nothing set. */
    public static Builder builder() {
        return new Builder();
    }

    /** Whether no parameter is set. */
    public boolean isEmpty() {
        return maxOutputTokens.isEmpty() && temperature.isEmpty() && stopSequences.isEmpty() && responseFormat.isEmpty();
    }

    /** These parameters with each one that {@code turn} sets taken from it instead. */
    public ModelParameters overriddenBy(ModelParameters turn) {
        Objects.requireNonNull(turn, "turn");
        if (turn.isEmpty()) {
            return this;
        }
        if (isEmpty()) {
            return turn;
        }
        return new ModelParameters(
                turn.maxOutputTokens.isPresent() ? turn.maxOutputTokens : maxOutputTokens,
                turn.temperature.isPresent() ? turn.temperature : temperature,
                turn.stopSequences.isEmpty() ? stopSequences : turn.stopSequences,
                turn.responseFormat.isPresent() ? turn.responseFormat : responseFormat);
    }

    /** Builds {@link ModelParameters}; each parameter is checked when set. Not thread safe. */
    public static final class Builder {
        private OptionalInt maxOutputTokens = OptionalInt.empty();
        private OptionalDouble temperature = OptionalDouble.empty();
        private List<String> stopSequences = List.of();
        private Optional<ResponseFormat> responseFormat = Optional.empty();

        private Builder() {
        }

        /** See {@link ModelParameters#maxOutputTokens()}. */
        public Builder maxOutputTokens(int tokens) {
            this.maxOutputTokens = OptionalInt.of(tokens);
            return check();
        }

        /** See {@link ModelParameters#temperature()}. */
        public Builder temperature(double value) {
            this.temperature = OptionalDouble.of(value);
            return check();
        }

        /** See {@link ModelParameters#stopSequences()}. */
        public Builder stopSequences(List<String> sequences) {
            this.stopSequences = new ArrayList<>(Objects.requireNonNull(sequences, "sequences"));
            return check();
        }

        /** See {@link ModelParameters#responseFormat()}. */
        public Builder responseFormat(ResponseFormat format) {
            this.responseFormat = Optional.of(Objects.requireNonNull(format, "format"));
            return check();
        }

        private Builder check() {
            build();
            return this;
        }

        /** The parameters set so far (each was checked when set). */
        public ModelParameters build() {
            return new ModelParameters(maxOutputTokens, temperature, stopSequences, responseFormat);
        }
    }
}
