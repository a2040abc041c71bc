package dev.parley.core.internal;

import dev.parley.api.ParleyException;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.TurnStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One running stream: the caller's {@link StreamHandle}, the turn's {@link TurnStream}, and the listener,
 * guarded so that a listener's exception is logged and never reaches the turn, and so that exactly one
 * terminal event is delivered. Thread safe: {@link #emit} may be called from any thread (a host's provider stage
 * may deliver from its own threads); deltas reach the hooks and the listener one at a time, in the order emit
 * was entered, and never after the terminal event: an emit after it is ignored. Cancel may come from any thread.
 */
final class StreamRun implements StreamHandle, TurnStream {
    private static final Logger LOG = LoggerFactory.getLogger(StreamRun.class);

    private final String conversationId;
    private final String promptId;
    private final StreamListener listener;
    private final List<ChunkHook> hooks = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean terminated = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    /** The end of the reply so far; guarded by this. */
    private final StringBuilder window = new StringBuilder();

    StreamRun(String conversationId, String promptId, StreamListener listener) {
        this.conversationId = conversationId;
        this.promptId = promptId;
        this.listener = listener;
    }

    @Override
    public String promptId() {
        return promptId;
    }

    @Override
    public void addChunkHook(ChunkHook hook) {
        hooks.add(java.util.Objects.requireNonNull(hook, "hook"));
    }

    @Override
    public synchronized void emit(String delta) {
        if (delta.isEmpty() || terminated.get()) {
            return;
        }
        window.append(delta);
        int excess = window.length() - (ChunkHook.WINDOW + delta.length());
        if (excess > 0) {
            window.delete(0, excess);
        }
        String seen = window.toString();
        for (ChunkHook hook : hooks) {
            try {
                hook.onChunk(delta, seen);
            } catch (ParleyException e) {
                throw e;
            } catch (RuntimeException e) {
                // A broken hook is a broken stage, not an unavailable model: say whose hook it was.
                throw new IllegalStateException("the chunk hook of stage " + stageOf(hook) + " failed: " + e, e);
            }
        }
        // Every delta emitted reaches the listener and the stored reply alike: what the caller saw is what is kept.
        try {
            listener.onDelta(delta);
        } catch (RuntimeException e) {
            LOG.warn("Stream listener failed on a delta of conversation {}; the stream goes on", conversationId, e);
        }
    }

    /** The stage a hook belongs to: the class that declared it (a lambda's or inner class's enclosing class). */
    static String stageOf(ChunkHook hook) {
        Class<?> type = hook.getClass();
        String name = type.getName();
        int lambda = name.indexOf("$$Lambda");
        if (lambda > 0) {
            name = name.substring(0, lambda);
        } else if (type.getEnclosingClass() != null) {
            name = type.getEnclosingClass().getName();
        }
        return name.substring(name.lastIndexOf('.') + 1);
    }

    @Override
    public void cancel() {
        cancelled.set(true);
    }

    @Override
    public boolean cancelled() {
        return cancelled.get();
    }

    /** Delivers the stored reply as the one terminal event. */
    void complete(Reply reply) {
        terminate(() -> listener.onComplete(reply), "completion");
    }

    /** Delivers the failure as the one terminal event. */
    void fail(RuntimeException error) {
        terminate(() -> listener.onError(error), "error");
    }

    private void terminate(Runnable event, String what) {
        // Under the emit lock: no delta is delivered beside or after the terminal event.
        synchronized (this) {
            terminateLocked(event, what);
        }
    }

    private void terminateLocked(Runnable event, String what) {
        if (terminated.compareAndSet(false, true)) {
            try {
                event.run();
            } catch (RuntimeException e) {
                LOG.warn("Stream listener failed on the {} of conversation {}", what, conversationId, e);
            } finally {
                done.countDown();
            }
        }
    }

    /** Delivers a replayed reply: its text as one delta, then completion. */
    void replay(Reply reply) {
        if (!reply.text().isEmpty()) {
            try {
                listener.onDelta(reply.text());
            } catch (RuntimeException e) {
                LOG.warn("Stream listener failed on a delta of conversation {}", conversationId, e);
            }
        }
        complete(reply);
    }

    @Override
    public boolean isDone() {
        return done.getCount() == 0;
    }

    @Override
    public boolean await(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

}
