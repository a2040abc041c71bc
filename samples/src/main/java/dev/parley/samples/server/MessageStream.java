package dev.parley.samples.server;

import dev.parley.api.Conversation;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import io.javalin.http.Context;
import io.javalin.http.sse.Emitter;
import jakarta.servlet.http.HttpServletResponse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine stream sent to one HTTP client as Server-Sent Events, through Javalin's SSE {@link Emitter}: a
 * {@code delta} event per piece of the reply ({@code {"text": ...}}), then exactly one {@code final} event with what
 * the API says of the stored reply (the workspace style's assistant message, the assistant style's text and credits),
 * or one {@code error} event ({@code {code, message}}). Each event is flushed as it is
 * written. The engine's listener calls only queue events; the request's own thread writes them ({@link #send}), so a
 * slow client slows only its stream. A client that goes away is noticed at the next write (a comment is written when
 * nothing happened for {@link #KEEP_ALIVE}), and its engine stream is cancelled: the partial reply is kept.
 * Thread safe.
 */
final class MessageStream implements StreamListener {
    /** How long the stream stays silent before a comment checks that the client is still there. */
    static final Duration KEEP_ALIVE = Duration.ofSeconds(5);

    private static final Logger LOG = LoggerFactory.getLogger(MessageStream.class);

    /** One event for the client; {@code terminal} ends the stream. */
    private record Event(String name, Object data, boolean terminal) {
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Function<Reply, Object> finalEvent;
    private volatile @Nullable StreamHandle handle;

    /** A stream whose {@code final} event carries {@code finalEvent} of the stored reply. */
    MessageStream(Function<Reply, Object> finalEvent) {
        this.finalEvent = Objects.requireNonNull(finalEvent, "finalEvent");
    }

    /**
     * Takes a stream slot of {@code active} for {@code userId} (a refusal is a 429 or 503 before anything starts),
     * then starts the engine stream of {@code prompt}, so that an engine refusal (a stream already active, a bad field)
     * is an ordinary error response; only then answers {@code ctx} with the event stream, on the calling thread, while
     * {@code active} holds it under the conversation's id (so that a cancel can wait for it and shutdown cancel it).
     */
    static void serve(Context ctx, String userId, Conversation conversation, Prompt prompt,
                      Function<Reply, Object> finalEvent, ActiveStreams active) throws InterruptedException {
        try (ActiveStreams.Slot slot = active.acquire(userId)) {
            MessageStream stream = new MessageStream(finalEvent);
            StreamHandle streamHandle = conversation.stream(prompt, stream);
            stream.started(streamHandle);
            active.add(conversation.id(), stream);
            try {
                stream.send(ctx);
            } finally {
                // A no-op once the stream ended; else (the request thread interrupted, a write failed) it stops the
                // engine stream, which nobody would read any more, and frees the conversation.
                stream.cancel();
                active.remove(conversation.id(), stream);
            }
        }
    }

    /** Queues a delta. */
    @Override
    public void onDelta(String delta) {
        events.add(new Event("delta", Json.object("text", delta), false));
    }

    /** Queues the final event: the stored reply, complete or cancelled. */
    @Override
    public void onComplete(Reply reply) {
        events.add(new Event("final", finalEvent.apply(reply), true));
    }

    /** Queues the error event. */
    @Override
    public void onError(RuntimeException error) {
        Object data;
        if (error instanceof ParleyException e) {
            data = Json.object("code", WorkspaceApi.code(e.code()), "message",
                    Objects.requireNonNullElse(e.getMessage(), e.code().name()));
        } else {
            LOG.error("a stream failed", error);
            data = Json.object("code", "internalError", "message", "internal error");
        }
        events.add(new Event("error", data, true));
    }

    /** The engine stream this sends; set once the engine has started it. */
    void started(StreamHandle streamHandle) {
        this.handle = Objects.requireNonNull(streamHandle, "streamHandle");
    }

    /** Asks the engine to stop the stream; its final event follows. A no-op before it started and once it ended. */
    void cancel() {
        StreamHandle h = handle;
        if (h != null) {
            h.cancel();
        }
    }

    /** Waits until the engine has delivered the stream's terminal event, its reply stored; false on timeout. */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        StreamHandle h = handle;
        return h == null || h.await(timeout);
    }

    /**
     * Answers the request with the event stream and writes the events until the terminal one, on the calling
     * thread. Returns early, cancelling the engine stream, when the client has gone away.
     */
    void send(Context ctx) throws InterruptedException {
        HttpServletResponse res = ctx.res();
        res.setStatus(200);
        res.setCharacterEncoding("UTF-8");
        res.setContentType("text/event-stream");
        res.setHeader("Cache-Control", "no-cache");
        res.setHeader("X-Accel-Buffering", "no");
        try {
            res.flushBuffer();
        } catch (IOException e) {
            LOG.debug("client gone before the stream began; cancelling it");
            cancel();
            return;
        }
        Emitter emitter = new Emitter(res);
        while (true) {
            Event event = events.poll(KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS);
            if (event == null) {
                emitter.emit("keep-alive");
            } else {
                emitter.emit(event.name(), new ByteArrayInputStream(Json.asciiBytes(event.data())), null);
            }
            if (emitter.getClosed()) {
                LOG.debug("client gone during the stream; cancelling it");
                cancel();
                return;
            }
            if (event != null && event.terminal()) {
                return;
            }
        }
    }
}
