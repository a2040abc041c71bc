package dev.parley.samples.server;

import dev.parley.api.ErrorCode;

/**
 * The HTTP status of each engine {@link ErrorCode}, one status per code, the same for every API the server speaks:
 *
 * <table>
 *   <caption>Engine error codes and HTTP statuses</caption>
 *   <tr><th>code</th><th>status</th></tr>
 *   <tr><td>NOT_FOUND</td><td>404</td></tr>
 *   <tr><td>FORBIDDEN</td><td>403</td></tr>
 *   <tr><td>INVALID_REQUEST</td><td>400</td></tr>
 *   <tr><td>CONVERSATION_LOCKED</td><td>409</td></tr>
 *   <tr><td>POLICY_BLOCKED</td><td>422</td></tr>
 *   <tr><td>BUDGET_EXCEEDED</td><td>402</td></tr>
 *   <tr><td>RATE_LIMITED</td><td>429, with {@code Retry-After}</td></tr>
 *   <tr><td>MODEL_UNAVAILABLE</td><td>502</td></tr>
 *   <tr><td>STORE_FAILURE</td><td>503</td></tr>
 * </table>
 */
public final class ErrorStatus {
    private ErrorStatus() {
    }

    /** The HTTP status of {@code code}. */
    public static int of(ErrorCode code) {
        return switch (code) {
            case NOT_FOUND -> 404;
            case FORBIDDEN -> 403;
            case INVALID_REQUEST -> 400;
            case CONVERSATION_LOCKED -> 409;
            case POLICY_BLOCKED -> 422;
            case BUDGET_EXCEEDED -> 402;
            case RATE_LIMITED -> 429;
            case MODEL_UNAVAILABLE -> 502;
            case STORE_FAILURE -> 503;
        };
    }
}
