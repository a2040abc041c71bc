package dev.parley.core.internal;

import dev.parley.api.ParleyException;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.StreamFilter;
import dev.parley.api.values.TurnStream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One running stream: the caller's {@link StreamHandle}, the turn's {@link TurnStream}, and the listener,
 * guarded so that a listener's exception is logged and never reaches the turn, and so that exactly one
 * terminal event is delivered.
 *
 * <p>Thread safe. The output's fate is one atomic state ({@link Output}): cancel and complete race by
 * compare-and-set, so exactly one of them wins. The output path is serialized by {@link #output}: under it each
 * delta passes the filters and hooks, what they release joins the text and reaches the listener, and the terminal
 * event closes it, so no delta is delivered concurrently with another or after the terminal event. With filters or
 * hooks, a delta emitted on another thread than the turn's is only queued ({@link #inbox}), and the turn's thread
 * passes it on: the provider's thread never waits for a check.
 */
final class StreamRun implements StreamHandle, TurnStream, YieldingStream {
    private static final Logger LOG = LoggerFactory.getLogger(StreamRun.class);

    /** How the output ends; only ever leaves {@code OPEN}, once. */
    private enum Output { OPEN, CANCELLED, COMPLETED }

    private final String conversationId;
    private final String promptId;
    private final StreamListener listener;
    /** The filters and hooks, in the order they were added; fixed once the stream began. */
    private final List<Element> elements = new CopyOnWriteArrayList<>();
    /** Deltas other threads emitted, waiting for the turn's thread; guarded by itself. */
    private final java.util.ArrayDeque<String> inbox = new java.util.ArrayDeque<>();
    /** Whether text was emitted: no filter or hook may be added then. Written under {@link #output}. */
    private volatile boolean started;
    /** Whether the filters were ended, releasing what they held; guarded by {@link #output}. */
    private boolean filtersEnded;
    private final AtomicReference<Output> state = new AtomicReference<>(Output.OPEN);
    private final AtomicBoolean terminated = new AtomicBoolean();
    private final CountDownLatch done = new CountDownLatch(1);
    /** Serializes the output path: guards the filters and hooks, {@link #text} and the writes of {@link #closed}. */
    private final Object output = new Object();
    /** Every piece handed to the listener, as the model wrote it (markdown kept); guarded by {@link #output}. */
    private final StringBuilder text = new StringBuilder();
    /** The markdown remover of a plaintext stream, else null; guarded by {@link #output}. */
    private final @Nullable PlaintextDeltas plain;
    /** Set just before the terminal event: no delta is handed on after it. */
    private volatile boolean closed;
    /** Set once the stream's conversation lock was found taken by another holder: the turn must not commit. */
    private volatile boolean leaseLost;
    /** The stage the pipeline is in on its way down, named in the errors of the hooks it adds. */
    private volatile String currentStage = "an unknown stage";

    /**
     * The stream of one turn.
     *
     * @param plaintext whether the listener gets the reply with markdown removed ({@link PlaintextDeltas}); the stored
     *                  reply keeps the markdown, as a send's does
     */
    StreamRun(String conversationId, String promptId, StreamListener listener, boolean plaintext) {
        this.conversationId = conversationId;
        this.promptId = promptId;
        this.listener = listener;
        this.plain = plaintext ? new PlaintextDeltas() : null;
    }

    String conversationId() {
        return conversationId;
    }

    @Override
    public String promptId() {
        return promptId;
    }

    /** Notes the stage the pipeline enters; returns the one it was in, for {@link #leaveStage}. */
    String enterStage(String stage) {
        String outer = currentStage;
        currentStage = stage;
        return outer;
    }

    void leaveStage(String outer) {
        currentStage = outer;
    }

    /** The thread running the stream's turn while it runs; written under {@code this}. */
    private volatile Thread runner;
    /** Whether the engine's close interrupted the runner; guarded by {@code this}. */
    private boolean interruptedByClose;
    /** The stream's lock holder id, once it holds the lock. */
    private volatile String holder;
    /** Guards {@link #yielded} and every use of the lock by the lease keeper. */
    private final Object lockState = new Object();
    /** Whether the stream gave its lock up for a while ({@link #yieldLock}); guarded by {@link #lockState}. */
    private boolean yielded;
    private ConversationStore lockStore;
    private Clock lockClock;
    private Duration lockLease;

    /** Notes that the stream holds its conversation's lock as {@code lockHolder}, with this lease, in this store. */
    void holdLock(String lockHolder, ConversationStore store, Clock clock, Duration lease) {
        synchronized (lockState) {
            this.holder = lockHolder;
            this.lockStore = store;
            this.lockClock = clock;
            this.lockLease = lease;
        }
    }

    /** Runs {@code action} (a renewal) unless the lock is given up for a while; under the lock state. */
    void whileHoldingLock(Runnable action) {
        synchronized (lockState) {
            if (!yielded) {
                action.run();
            }
        }
    }

    @Override
    public void yieldLock() {
        synchronized (lockState) {
            if (yielded || lockStore == null) {
                return;
            }
            lockStore.yieldStreamLock(conversationId, holder);
            yielded = true;
        }
        listener().streamLockReleased(context);
    }

    /**
     * Releases the lock as the stream ends (counting the stream as ended); true when it was held, false when the
     * stream had given it up for a wait and not taken it back.
     */
    boolean releaseLock() {
        synchronized (lockState) {
            if (yielded) {
                return false;
            }
            lockStore.releaseStreamLock(conversationId, holder);
            return true;
        }
    }

    /** The engine's listener of this stream's turn, and the turn as it knows it. */
    private volatile dev.parley.api.spi.EngineListener engineListener = dev.parley.api.spi.EngineListener.NONE;
    private volatile dev.parley.api.spi.EngineListener.TurnContext context;
    /** Whether a delta has been handed on; guarded by {@link #output}. */
    private boolean delivered;
    /** Whether the listener got a delta of the model's text; guarded by {@link #output}. */
    private boolean firstHandedOn;

    void observe(dev.parley.api.spi.EngineListener listener, dev.parley.api.spi.EngineListener.TurnContext turn) {
        this.context = turn;
        this.engineListener = listener;
    }

    private dev.parley.api.spi.EngineListener listener() {
        return context == null ? dev.parley.api.spi.EngineListener.NONE : engineListener;
    }

    @Override
    public void reclaimLock() {
        synchronized (lockState) {
            if (!yielded) {
                return;
            }
            if (!lockStore.acquireStreamLock(conversationId, holder, lockClock.instant(), lockLease)) {
                throw new dev.parley.api.ConversationLockedException(conversationId,
                        "another stream started while this one waited for its message id");
            }
            yielded = false;
        }
        listener().streamLockAcquired(context);
    }

    /**
     * Starts the output path afresh for another attempt of the model call: text queued or held back by filters
     * from the earlier attempt is dropped, and hooks' windows are cleared. Only before any text was delivered.
     */
    void restart() {
        synchronized (output) {
            synchronized (inbox) {
                inbox.clear();
            }
            for (Element element : elements) {
                element.buffer.setLength(0);
                if (element.filter != null) {
                    element.filter.restart();
                }
            }
        }
    }

    /** Whether any text reached the caller's listener. */
    boolean deliveredAny() {
        synchronized (output) {
            return delivered;
        }
    }

    String holder() {
        return holder;
    }

    /** Notes the thread that runs the turn, so that the engine's close can interrupt it. */
    synchronized void bind(Thread thread) {
        runner = thread;
    }

    /**
     * Forgets the running thread; clears an interrupt the engine's close made, so that the thread (maybe a host
     * pool's) goes on uninterrupted.
     */
    synchronized void unbind() {
        if (interruptedByClose && runner == Thread.currentThread()) {
            Thread.interrupted();
        }
        runner = null;
    }

    /** Clears an interrupt the engine's close made on the current (the runner's) thread; true when there was one. */
    synchronized boolean clearCloseInterrupt() {
        return interruptedByClose && runner == Thread.currentThread() && Thread.interrupted();
    }

    /** Interrupts the turn's thread, if it runs; used by the engine's close on a stream that ignores its cancel. */
    synchronized void interruptForClose() {
        if (runner != null) {
            interruptedByClose = true;
            runner.interrupt();
        }
    }

    /** Marks the lock as lost and stops the stream; its turn then fails instead of committing. */
    void loseLease() {
        leaseLost = true;
        cancel();
    }

    boolean leaseLost() {
        return leaseLost;
    }

    @Override
    public void addChunkHook(ChunkHook hook) {
        register(new Element(currentStage, null, Objects.requireNonNull(hook, "hook")));
    }

    @Override
    public void addFilter(StreamFilter filter) {
        register(new Element(currentStage, Objects.requireNonNull(filter, "filter"), null));
    }

    private void register(Element element) {
        synchronized (output) {
            if (started) {
                throw new IllegalStateException("stage " + element.stage
                        + " added a stream filter or hook after the stream began; add it before proceeding");
            }
            elements.add(element);
        }
    }

    @Override
    public boolean emit(String delta) {
        Objects.requireNonNull(delta, "delta");
        if (!open()) {
            return false;
        }
        if (!started) {
            synchronized (output) {
                started = true;
            }
        }
        if (delta.isEmpty()) {
            return true;
        }
        if (!elements.isEmpty() && Thread.currentThread() != runner) {
            // Another thread (a provider's): queue it for the turn's thread, so that no check holds the provider up.
            synchronized (inbox) {
                inbox.add(delta);
            }
            return true;
        }
        synchronized (output) {
            drainInbox();
            if (closed || state.get() != Output.OPEN) {
                return false;
            }
            pass(delta, false);
            return true;
        }
    }

    private boolean open() {
        return !closed && state.get() == Output.OPEN;
    }

    @Override
    public void deliverPending() {
        synchronized (output) {
            drainInbox();
        }
    }

    /** Passes the queued deltas on, in order; drops them once the stream was cancelled or closed. Under {@link #output}. */
    private void drainInbox() {
        while (true) {
            String delta;
            synchronized (inbox) {
                if (closed || state.get() == Output.CANCELLED) {
                    inbox.clear();
                }
                delta = inbox.poll();
            }
            if (delta == null) {
                return;
            }
            pass(delta, false);
        }
    }

    /**
     * Passes a piece through the filters and hooks, innermost first, and hands what comes out to the listener;
     * at the end, every filter releases what it held. Under {@link #output}.
     */
    private void pass(String delta, boolean end) {
        String piece = delta;
        for (int i = elements.size() - 1; i >= 0; i--) {
            if (piece.isEmpty() && !end) {
                return;
            }
            piece = elements.get(i).apply(piece, end);
        }
        if (piece.isEmpty()) {
            return;
        }
        // Every piece handed on reaches the listener and the stored reply alike: what the caller saw is kept.
        text.append(piece);
        delivered = true;
        handOn(plain == null ? piece : plain.next(piece), true);
    }

    /**
     * Hands a delta to the listener; a listener's failure does not stop the stream. The first delta of the model's
     * text (not of a replay) is reported to the engine listener as the first token. Under {@link #output}.
     */
    private void handOn(String delta, boolean ofTheModel) {
        if (delta.isEmpty()) {
            return;
        }
        if (ofTheModel && !firstHandedOn) {
            firstHandedOn = true;
            listener().firstDelta(context);
        }
        try {
            listener.onDelta(delta);
        } catch (RuntimeException e) {
            LOG.warn("Stream listener failed on a delta of conversation {}; the stream goes on", conversationId, e);
        }
    }

    @Override
    public void cancel() {
        state.compareAndSet(Output.OPEN, Output.CANCELLED);
    }

    @Override
    public boolean cancelled() {
        return state.get() == Output.CANCELLED;
    }

    @Override
    public boolean complete() {
        return state.compareAndSet(Output.OPEN, Output.COMPLETED) || state.get() == Output.COMPLETED;
    }

    @Override
    public String text() {
        synchronized (output) {
            drainInbox();
            if (state.get() == Output.COMPLETED && !closed && !filtersEnded && !elements.isEmpty()) {
                filtersEnded = true;
                pass("", true);
            }
            return text.toString();
        }
    }

    /** Delivers the stored reply as the one terminal event. */
    void complete(Reply reply) {
        if (plain != null) {
            synchronized (output) {
                if (!closed) {
                    handOn(plain.rest(reply.text()), true); // what the plaintext renderer still held back
                }
            }
        }
        terminate(() -> listener.onComplete(reply), "completion");
    }

    /** Delivers the failure as the one terminal event. */
    void fail(RuntimeException error) {
        terminate(() -> listener.onError(error), "error");
    }

    private void terminate(Runnable event, String what) {
        if (terminated.compareAndSet(false, true)) {
            synchronized (output) {
                closed = true; // waits for a delta being handed on, and refuses every later one
            }
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
        synchronized (output) {
            if (!closed) {
                // The stored reply's text is plain already when the prompt asked for it; rest() notes it handed on.
                handOn(plain == null ? reply.text() : plain.rest(reply.text()), false);
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

    /**
     * A filter or a hook at its place in the output path, with the text it holds back (a filter) or the window of
     * text it has seen (a hook). Used under {@link #output} only.
     */
    private static final class Element {
        final String stage;
        final StreamFilter filter;
        final ChunkHook hook;
        private final StringBuilder buffer = new StringBuilder();

        Element(String stage, StreamFilter filter, ChunkHook hook) {
            this.stage = stage;
            this.filter = filter;
            this.hook = hook;
        }

        /** What goes on of {@code piece}. */
        String apply(String piece, boolean end) {
            return filter != null ? filter(piece, end) : watch(piece);
        }

        private String filter(String piece, boolean end) {
            buffer.append(piece);
            String pending = buffer.toString();
            StreamFilter.Release release;
            try {
                release = filter.filter(pending, end);
            } catch (ParleyException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new StageChain.ContractViolation("a stream filter of stage " + stage + " failed: " + e, e);
            }
            if (release == null) {
                throw new StageChain.ContractViolation("a stream filter of stage " + stage + " returned null");
            }
            if (release.consumed() > pending.length()) {
                throw new StageChain.ContractViolation("a stream filter of stage " + stage + " released "
                        + release.consumed() + " characters of the " + pending.length() + " it was given");
            }
            if (end && release.consumed() != pending.length()) {
                throw new StageChain.ContractViolation("a stream filter of stage " + stage + " still held "
                        + (pending.length() - release.consumed()) + " characters when the reply ended");
            }
            buffer.delete(0, release.consumed());
            if (buffer.length() > StreamFilter.MAX_HELD) {
                throw new StageChain.ContractViolation("a stream filter of stage " + stage + " held back "
                        + buffer.length() + " characters, more than " + StreamFilter.MAX_HELD);
            }
            return release.text();
        }

        private String watch(String piece) {
            if (piece.isEmpty()) {
                return piece;
            }
            buffer.append(piece);
            int excess = buffer.length() - (ChunkHook.WINDOW + piece.length());
            if (excess > 0) {
                buffer.delete(0, excess);
            }
            try {
                hook.onChunk(piece, buffer.toString());
            } catch (ParleyException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new StageChain.ContractViolation("a chunk hook of stage " + stage + " failed: " + e, e);
            }
            return piece;
        }
    }
}
