package dev.parley.api;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable set of {@link TurnAttribute} values. {@code toString} names the keys only: values may be what
 * a host would not log. Thread safe.
 */
public final class TurnAttributes {
    /** No attributes. */
    public static final TurnAttributes EMPTY = new TurnAttributes(Map.of());

    private final Map<TurnAttribute<?>, Object> values;

    private TurnAttributes(Map<TurnAttribute<?>, Object> values) {
        this.values = values;
    }

    /** The value of {@code key}, if set. */
    public <T> Optional<T> get(TurnAttribute<T> key) {
        Objects.requireNonNull(key, "key");
        Object value = values.get(key);
        return value == null ? Optional.empty() : Optional.of(key.type().cast(value));
    }

    /**
     * These attributes with {@code key} set to {@code value}.
     *
     * @throws IllegalArgumentException when the value is not of the key's type
     */
    public <T> TurnAttributes with(TurnAttribute<T> key, T value) {
        Objects.requireNonNull(key, "key");
        T checked = key.check(value);
        Map<TurnAttribute<?>, Object> copy = new IdentityHashMap<>(values);
        copy.put(key, checked);
        return new TurnAttributes(Collections.unmodifiableMap(copy));
    }

    /** These attributes with every one {@code over} sets taken from it. */
    public TurnAttributes overriddenBy(TurnAttributes over) {
        Objects.requireNonNull(over, "over");
        if (over.values.isEmpty()) {
            return this;
        }
        if (values.isEmpty()) {
            return over;
        }
        Map<TurnAttribute<?>, Object> copy = new IdentityHashMap<>(values);
        copy.putAll(over.values);
        return new TurnAttributes(Collections.unmodifiableMap(copy));
    }

    /** Whether no attribute is set. */
    public boolean isEmpty() {
        return values.isEmpty();
    }

    /** How many attributes are set. */
    public int size() {
        return values.size();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TurnAttributes other && values.equals(other.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder out = new StringBuilder("TurnAttributes{");
        values.keySet().forEach(k -> out.append(out.length() > 15 ? ", " : "").append(k.name()));
        return out.append('}').toString();
    }
}
