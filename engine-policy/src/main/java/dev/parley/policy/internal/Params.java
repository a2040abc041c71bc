package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicySpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/** Reads a {@link PolicySpec}'s parameters, naming {@code parameters.<name>} in every error. Not API. */
public final class Params {
    private final Map<String, String> values;

    private Params(Map<String, String> values) {
        this.values = values;
    }

    /**
     * The parameters of {@code spec}.
     *
     * @throws InvalidRequestException naming the first parameter not in {@code known}
     */
    public static Params of(PolicySpec spec, Set<String> known) {
        for (String name : spec.parameters().keySet()) {
            if (!known.contains(name)) {
                throw new InvalidRequestException("parameters." + name, "is not a parameter of kind " + spec.kind()
                        + "; known: " + new java.util.TreeSet<>(known));
            }
        }
        return new Params(spec.parameters());
    }

    /** The value of {@code name}, or null when not set. */
    public @Nullable String get(String name) {
        return values.get(name);
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** A positive integer, or null when not set. */
    public @Nullable Long positiveLong(String name) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        try {
            long n = Long.parseLong(v.trim());
            if (n <= 0) {
                throw new InvalidRequestException("parameters." + name, "must be a positive whole number");
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("parameters." + name, "must be a positive whole number");
        }
    }

    /** Splits on commas and newlines, trimmed, dropping empty items; null when not set. */
    public @Nullable List<String> list(String name, boolean commas) {
        String v = values.get(name);
        if (v == null) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (String item : v.split(commas ? "[,\\r\\n]+" : "\\r?\\n|\\r")) {
            if (!item.isBlank()) {
                out.add(commas ? item.trim() : item.strip());
            }
        }
        return out;
    }

    /** A comma-separated list of upper-case names; null when not set. */
    public @Nullable List<String> names(String name) {
        List<String> items = list(name, true);
        if (items == null) {
            return null;
        }
        return items.stream().map(s -> s.toUpperCase(Locale.ROOT)).toList();
    }

    /** Re-throws a builder's field error under {@code parameters.<name>}. */
    public static InvalidRequestException rename(InvalidRequestException e, String parameter) {
        String message = e.getMessage();
        int colon = message == null ? -1 : message.indexOf(": ");
        return new InvalidRequestException("parameters." + parameter, colon < 0 ? "is invalid"
                : message.substring(colon + 2));
    }
}
