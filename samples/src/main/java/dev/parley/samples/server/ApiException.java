package dev.parley.samples.server;

/**
 * A request the HTTP layer refuses before the engine sees it: missing or wrong credentials, a body that is not the
 * JSON the endpoint takes, a query parameter of the wrong type. The message names the field and never quotes what
 * the client sent.
 */
public final class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;

    /** A refusal with this HTTP status and message. */
    public ApiException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }

    /** A 400 naming {@code field}. */
    public static ApiException badRequest(String field, String problem) {
        return new ApiException(400, field + ": " + problem);
    }

    /** A 401: no credentials, or credentials no user has. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, message);
    }

    /** The HTTP status to answer with. */
    public int status() {
        return status;
    }
}
