package dev.parley.samples.server;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;


/**
 * The event streams this server is sending, shared by every API that streams. Each stream holds a request thread of
 * the server for as long as it runs, so their number is capped: at most {@code perCaller} for one user, else 429 with
 * {@code Retry-After}, and at most {@code total} for the server, else 503, so that streams can never take every thread
 * and starve the other requests. A slot is taken before the engine stream starts and given back when the response
 * ends. Streams are also found here by conversation: to wait for a cancelled one to store its partial reply, and to
 * cancel every one at shutdown. Thread safe.
 */
final class ActiveStreams {
    /** The limits of a server: at most {@code total} streams at once, at most {@code perCaller} of one user. */
    record Limits(int total, int perCaller) {
        /** 64 streams, 4 per user: well inside the server's request threads, as many tabs as a person uses. */
        static final Limits DEFAULT = new Limits(64, 4);

        Limits {
            if (total < 1 || perCaller < 1 || perCaller > total) {
                throw new IllegalArgumentException("stream limits need 1 <= perCaller <= total, were perCaller="
                        + perCaller + ", total=" + total);
            }
        }
    }

    /** What a refused stream's client should wait before trying again. */
    static final int RETRY_AFTER_SECONDS = 1;

    private final Limits limits;
    /** Streams per user; guarded by itself, as is {@link #total}. */
    private final Map<String, Integer> perCaller = new HashMap<>();
    private int total;
    private final Map<String, MessageStream> byConversation = new ConcurrentHashMap<>();

    ActiveStreams(Limits limits) {
        this.limits = Objects.requireNonNull(limits, "limits");
    }

    /** A stream slot, given back by closing it. */
    interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes a slot for a stream of {@code userId}.
     *
     * @throws ApiException 429 when the user has {@code perCaller} streams running, 503 when the server has
     *                      {@code total}; the message says which, and the status's handler adds {@code Retry-After}
     */
    Slot acquire(String userId) {
        Objects.requireNonNull(userId, "userId");
        synchronized (perCaller) {
            int mine = perCaller.getOrDefault(userId, 0);
            if (mine >= limits.perCaller()) {
                throw new ApiException(429, "streams: at most " + limits.perCaller()
                        + " streams of one caller at once; retry when one has ended");
            }
            if (total >= limits.total()) {
                throw new ApiException(503, "streams: the server is sending as many streams as it can; retry shortly");
            }
            perCaller.put(userId, mine + 1);
            total++;
        }
        boolean[] released = {false};
        return () -> {
            synchronized (perCaller) {
                if (released[0]) {
                    return;
                }
                released[0] = true;
                total--;
                perCaller.computeIfPresent(userId, (k, n) -> n == 1 ? null : n - 1);
            }
        };
    }

    /** Notes that {@code stream} is sending the stream of {@code conversationId}. */
    void add(String conversationId, MessageStream stream) {
        byConversation.put(conversationId, stream);
    }

    /** Forgets {@code stream} once it has ended. */
    void remove(String conversationId, MessageStream stream) {
        byConversation.remove(conversationId, stream);
    }

    /** The stream this server is sending on {@code conversationId}, if any. */
    Optional<MessageStream> of(String conversationId) {
        return Optional.ofNullable(byConversation.get(conversationId));
    }

    /** Cancels every stream this server is sending; each still ends with its final event. */
    void cancelAll() {
        List.copyOf(byConversation.values()).forEach(MessageStream::cancel);
    }
}
