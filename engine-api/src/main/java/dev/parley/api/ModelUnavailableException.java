package dev.parley.api;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The model could not answer: a timeout, a refusal or an error of the provider. The message names the model and
 * the kind of failure (for example "timed out", "authentication refused (HTTP 401)", "connection refused",
 * "malformed response"); it never carries the provider's own message, which can echo API keys, project ids and
 * upstream URLs. The provider's exception is the cause. Nothing of the turn was stored.
 */
public class ModelUnavailableException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String model;

    /**
     * @param model  the model's registered name
     * @param reason what went wrong, in the engine's words (never text the provider sent)
     * @param cause  the provider's exception, or null
     */
    public ModelUnavailableException(String model, String reason, @Nullable Throwable cause) {
        super(ErrorCode.MODEL_UNAVAILABLE,
                "model " + Objects.requireNonNull(model, "model") + " unavailable: " + reason, cause);
        this.model = model;
    }

    /** The name of the model that failed. */
    public String model() {
        return model;
    }
}
