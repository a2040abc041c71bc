package dev.parley.samples.server;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

import java.nio.ByteBuffer;

/**
 * The answer to a request Jetty refuses before any route sees it (a URI with an encoded NUL or an ambiguous segment,
 * a malformed request line): JSON instead of Jetty's HTML page, with both the repository style's
 * {@code success: false} and the workspace style's {@code code}, since the request's API is not known yet. The
 * message names the request and never quotes it. Thread safe.
 */
final class JettyErrors extends ErrorHandler {

    @Override
    protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
                                    Callback callback) {
        String text = code == 400 ? "request: is not a valid HTTP request (a malformed or ambiguous URI)"
                : "request: " + HttpStatus.getMessage(code);
        String name = code == 400 ? "invalidRequest" : code >= 500 ? "internalError" : "badRequest";
        byte[] body = Json.bytes(Json.object("success", false, "code", name, "message", text));
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        // Jetty closes a connection after a request it could not parse; say so, so that no client reuses it.
        response.getHeaders().put(HttpHeader.CONNECTION, "close");
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
