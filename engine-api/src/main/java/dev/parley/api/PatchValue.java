package dev.parley.api;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * One field of a patch: keep the current value, clear it, or set a new one. Immutable and thread safe.
 *
 * @param <T> the field's type
 */
public final class PatchValue<T> {
    private static final PatchValue<?> KEEP = new PatchValue<>(Kind.KEEP, null);
    private static final PatchValue<?> CLEAR = new PatchValue<>(Kind.CLEAR, null);

    /** What a patch does to a field. */
    public enum Kind { KEEP, CLEAR, SET }

    private final Kind kind;
    private final @Nullable T value;

    private PatchValue(Kind kind, @Nullable T value) {
        this.kind = kind;
        this.value = value;
    }

    @SuppressWarnings("unchecked")
    public static <T> PatchValue<T> keep() {
        return (PatchValue<T>) KEEP;
    }

    @SuppressWarnings("unchecked")
    public static <T> PatchValue<T> clear() {
        return (PatchValue<T>) CLEAR;
    }

    public static <T> PatchValue<T> set(T value) {
        return new PatchValue<>(Kind.SET, Objects.requireNonNull(value, "value"));
    }

    /** {@link #set} for a non-null value, {@link #clear} for null: how a JSON field that is present maps. */
    public static <T> PatchValue<T> of(@Nullable T valueOrNull) {
        return valueOrNull == null ? clear() : set(valueOrNull);
    }

    public Kind kind() {
        return kind;
    }

    public boolean isKeep() {
        return kind == Kind.KEEP;
    }

    /** The field's value after the patch, given its current value (which may be null). */
    public @Nullable T applyTo(@Nullable T current) {
        return switch (kind) {
            case KEEP -> current;
            case CLEAR -> null;
            case SET -> value;
        };
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PatchValue<?> p && p.kind == kind && Objects.equals(p.value, value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, value);
    }

    @Override
    public String toString() {
        return kind == Kind.SET ? "set(" + value + ")" : kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
