package dev.parley.api;

import java.util.Objects;

/**
 * The model could not answer: a timeout, a refusal or an error of the provider. The message carries the
 * provider's own message; the provider's exception is the cause. Nothing of the turn was stored.
 */
public class ModelUnavailableException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String model;

    public ModelUnavailableException(String model, String providerMessage, Throwable cause) {
        super(ErrorCode.MODEL_UNAVAILABLE,
                "model " + Objects.requireNonNull(model, "model") + " unavailable: " + providerMessage, cause);
        this.model = model;
    }

    /** The name of the model that failed. */
    public String model() {
        return model;
    }
}
