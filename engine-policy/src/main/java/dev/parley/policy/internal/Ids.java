package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;

import java.util.regex.Pattern;

/** Checks policy ids. Not API. */
public final class Ids {
    private static final Pattern ID = Pattern.compile("[a-z0-9._-]{1,64}");

    private Ids() {
    }

    /**
     * Returns {@code id} when it is 1 to 64 characters of a-z, 0-9, '.', '_', '-'.
     *
     * @throws InvalidRequestException naming {@code id} otherwise
     */
    public static String check(String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new InvalidRequestException("id", "must be 1 to 64 characters of a-z, 0-9, '.', '_', '-'");
        }
        return id;
    }
}
