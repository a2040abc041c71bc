package dev.parley.spring.boot;

/**
 * The auto-configured engine cannot be built from the application's beans and {@code parley.*} properties: no
 * model, several models and no default, a default model that is not registered, a store that cannot be chosen.
 * Spring Boot reports it at startup with {@link #action()} as the suggested fix
 * ({@link ParleyConfigurationFailureAnalyzer}).
 */
public class ParleyConfigurationException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String action;

    /**
     * @param message what is wrong
     * @param action  what the application can do about it
     */
    public ParleyConfigurationException(String message, String action) {
        super(message);
        this.action = action;
    }

    /**
     * @param message what is wrong
     * @param action  what the application can do about it
     * @param cause   the engine's own refusal
     */
    public ParleyConfigurationException(String message, String action, Throwable cause) {
        super(message, cause);
        this.action = action;
    }

    /** What the application can do about it. */
    public String action() {
        return action;
    }
}
