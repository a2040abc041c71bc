package dev.parley.api;

import java.util.Objects;

import org.jspecify.annotations.Nullable;

/**
 * The root of every error Parley reports about a request. Unchecked; each subclass names what happened and
 * carries a stable {@link #code()}.
 *
 * <p>Programming mistakes (a null argument, a stage that breaks the pipeline contract) are reported with the
 * plain JDK exceptions instead: {@link NullPointerException}, {@link IllegalArgumentException},
 * {@link IllegalStateException}.
 */
public abstract class ParleyException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;

    protected ParleyException(ErrorCode code, String message) {
        this(code, message, null);
    }

    protected ParleyException(ErrorCode code, String message, @Nullable Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** The stable code of this error. */
    public ErrorCode code() {
        return code;
    }
}
