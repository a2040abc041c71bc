package dev.parley.api;

import java.util.Objects;

/**
 * The key of a typed value that travels with a turn: set by the host on a {@link Caller} or a {@link Prompt}
 * (an account id, a plan), or by a stage for the stages after it (a trace id), and read by stages with
 * {@link dev.parley.api.values.Turn#attribute}. Keys are compared by identity, so each is a constant of the code
 * that owns it. Attributes are not stored, not sent to the model and not part of a message id's fingerprint.
 * Immutable and thread safe.
 *
 * <pre>{@code
 * static final TurnAttribute<String> PLAN = TurnAttribute.of("plan", String.class);
 * Caller caller = Caller.user("alice", "acme").member("support").attribute(PLAN, "pro").build();
 * // in a stage:
 * String plan = chain.turn().attribute(PLAN).orElse("free");
 * }</pre>
 *
 * @param <T> the type of its values
 */
public final class TurnAttribute<T> {
    private final String name;
    private final Class<T> type;

    private TurnAttribute(String name, Class<T> type) {
        this.name = name;
        this.type = type;
    }

    /**
     * A new key; a second call with the same name is another key.
     *
     * @param name what it is called in {@code toString} and errors
     * @param type the class its values are checked against when set
     */
    public static <T> TurnAttribute<T> of(String name, Class<T> type) {
        dev.parley.api.internal.Checks.label("name", name, Limits.MAX_TAG_LENGTH);
        return new TurnAttribute<>(name, Objects.requireNonNull(type, "type"));
    }

    /** What the key is called in {@code toString} and errors. */
    public String name() {
        return name;
    }

    /** The class its values are checked against. */
    public Class<T> type() {
        return type;
    }

    /** The value checked against the key's type. */
    T check(Object value) {
        Objects.requireNonNull(value, name);
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("attribute " + name + " takes a " + type.getName() + ", not a "
                    + value.getClass().getName());
        }
        return type.cast(value);
    }

    @Override
    public String toString() {
        return "TurnAttribute[" + name + ": " + type.getSimpleName() + "]";
    }
}
