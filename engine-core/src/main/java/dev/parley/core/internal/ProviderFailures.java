package dev.parley.core.internal;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.ContentFilteredException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.UnresolvedModelServerException;

import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;

/**
 * Names the kind of a provider's failure for the public message of a
 * {@link dev.parley.api.ModelUnavailableException}: a timeout, an HTTP status, a refused or unreachable
 * connection, a malformed response. The provider's own message is never part of it: providers echo partial API
 * keys ("Incorrect API key provided: sk-...abcd"), project ids and upstream URLs there. That text stays on the
 * exception's cause. Stateless.
 */
public final class ProviderFailures {
    private ProviderFailures() {
    }

    /** A short description of what went wrong, written by Parley from the exception's types alone. */
    public static String kind(Throwable failure) {
        Integer status = null;
        String kind = null;
        int depth = 0;
        for (Throwable t = failure; t != null && depth < 32; t = t.getCause() == t ? null : t.getCause(), depth++) {
            if (status == null && t instanceof HttpException http) {
                status = http.statusCode();
            }
            if (kind == null) {
                kind = byType(t);
            }
        }
        if (kind != null) {
            return status == null ? kind : kind + " (HTTP " + status + ")";
        }
        if (status != null) {
            return "HTTP " + status;
        }
        return "failed (" + failure.getClass().getSimpleName() + ")";
    }

    private static String byType(Throwable t) {
        if (t instanceof dev.langchain4j.exception.TimeoutException || t instanceof SocketTimeoutException
                || t instanceof HttpTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
            return "timed out";
        }
        if (t instanceof AuthenticationException) {
            return "authentication refused";
        }
        if (t instanceof RateLimitException) {
            return "rate limited";
        }
        if (t instanceof ModelNotFoundException) {
            return "model not found by the provider";
        }
        if (t instanceof ContentFilteredException) {
            return "refused by the provider's content filter";
        }
        if (t instanceof ConnectException) {
            return "connection refused";
        }
        if (t instanceof UnresolvedModelServerException || t instanceof UnknownHostException) {
            return "server not found";
        }
        String type = t.getClass().getName();
        if (type.startsWith("com.fasterxml.jackson.core.") || type.startsWith("com.fasterxml.jackson.databind.")
                || type.startsWith("tools.jackson.")) {
            return "malformed response";
        }
        if (t instanceof UncheckedIOException || t instanceof java.io.IOException) {
            return "connection failed";
        }
        return null;
    }
}
