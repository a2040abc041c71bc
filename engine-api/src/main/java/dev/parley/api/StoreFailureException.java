package dev.parley.api;

import org.jspecify.annotations.Nullable;

/** The conversation store failed; the cause is the store's own exception. */
public class StoreFailureException extends ParleyException {
    private static final long serialVersionUID = 1L;

    public StoreFailureException(String message, @Nullable Throwable cause) {
        super(ErrorCode.STORE_FAILURE, message, cause);
    }
}
