package dev.parley.api;

import java.util.Objects;

/** A field of a request is missing, malformed or out of range. Nothing was stored. */
public class InvalidRequestException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String field;

    public InvalidRequestException(String field, String problem) {
        super(ErrorCode.INVALID_REQUEST, Objects.requireNonNull(field, "field") + ": " + problem);
        this.field = field;
    }

    /** The name of the offending field, as the public API spells it (for example {@code "size"}). */
    public String field() {
        return field;
    }
}
