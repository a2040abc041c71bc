package dev.parley.api;

import java.util.Objects;

/** The caller is known but may not perform the operation. */
public class AccessDeniedException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String userId;

    public AccessDeniedException(String userId, String what) {
        super(ErrorCode.FORBIDDEN, "user " + Objects.requireNonNull(userId, "userId") + " may not " + what);
        this.userId = userId;
    }

    /** The user who was refused. */
    public String userId() {
        return userId;
    }
}
