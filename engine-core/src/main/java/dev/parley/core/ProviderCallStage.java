package dev.parley.core;

import dev.parley.api.MessageStatus;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.ParleyException;
import dev.parley.api.Usage;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import dev.parley.api.values.TurnStream;

/**
 * Calls the turn's model with the request the context stage built; always the last stage. A streamed turn is
 * streamed: each delta goes out through the turn's {@link TurnStream} as it arrives, and a cancelled stream
 * ends with the part that had arrived. A stream cancelled before the model is called makes no call: its reply is
 * empty, CANCELLED, with no tokens counted (the model read and wrote nothing). Any failure of the
 * model (a timeout, an HTTP error, a refusal) becomes a {@link ModelUnavailableException} whose message names
 * the model and the kind of failure but not the provider's own text (which can echo API keys and upstream URLs);
 * the provider's exception is its cause, and is logged at DEBUG. Stateless and thread safe.
 */
public final class ProviderCallStage implements PromptStage {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ProviderCallStage.class);
    /**
     * A stage whose streams fail with {@link ModelUnavailableException} once the provider has delivered nothing
     * for the engine's {@linkplain dev.parley.api.Timeouts#streamIdle() stream idle timeout}, so that a stalled
     * provider cannot hold a conversation's stream lock for ever. Applies to providers that deliver on their own
     * threads (LangChain4j's streaming models).
     */
    public ProviderCallStage() {
    }

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        if (turn.request().isEmpty()) {
            throw new IllegalStateException("the turn reached " + name() + " without a model request: "
                    + "the pipeline needs a ContextStage (or a stage that builds the request) before it");
        }
        ModelProvider model = chain.services().model(turn.model(), turn.conversation(), "model");
        if (turn.stream() != null && turn.stream().cancelled()) {
            // Nothing was sent to the provider, so nothing is counted: the model read and wrote no token.
            return TurnResult.cancelledBeforeCall(turn);
        }
        dev.parley.api.spi.EngineListener listener = chain.services().listener();
        dev.parley.api.spi.EngineListener.TurnContext context = turn.context();
        listener.modelCallStart(context, turn.model());
        TurnResult result;
        try {
            result = turn.stream() != null ? stream(turn, model, chain.services().timeouts().streamIdle())
                    : chat(turn, model);
        } catch (RuntimeException e) {
            listener.modelCallFailed(context, e);
            throw e;
        }
        listener.modelCallEnd(context, result.reportedUsage().orElse(Usage.ZERO));
        return result;
    }

    private static TurnResult chat(Turn turn, ModelProvider model) {
        ModelResponse response;
        try {
            response = model.chat(new ModelRequest(turn.model(), turn.request(), turn.modelParameters()));
        } catch (ParleyException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelUnavailableException(turn.model(), describe(e), e);
        }
        if (response == null) {
            throw new ModelUnavailableException(turn.model(), "the model returned no response", null);
        }
        return TurnResult.fromModel(turn, response.text(), java.util.Optional.ofNullable(response.usage()));
    }

    /** How long a cancelled stream waits for the provider to acknowledge before the turn ends without it. */
    private static final long CANCEL_GRACE_MILLIS = 1_000;

    /**
     * Streams the answer through the turn's stream, blocking this (the stream's) thread until the provider
     * finishes, fails, or has been cancelled and either acknowledges or exceeds the grace period. The reply is
     * the stream's {@link TurnStream#text() text}, so what the listener saw is exactly what is stored. Whether it
     * is COMPLETE or CANCELLED is decided once, when the provider reports completion ({@link TurnStream#complete()}):
     * a cancel after that is a no-op, and the reply keeps its reported usage.
     */
    private TurnResult stream(Turn turn, ModelProvider model, java.time.Duration streamIdleTimeout) {
        TurnStream out = turn.stream();
        StreamCollector collector = new StreamCollector(out);
        try {
            model.stream(new ModelRequest(turn.model(), turn.request(), turn.modelParameters()), collector);
        } catch (RuntimeException e) {
            collector.onError(e);
        }
        collector.awaitEnd(out, streamIdleTimeout.toNanos());
        RuntimeException hookFailure = collector.hookFailure.get();
        if (hookFailure != null) {
            throw hookFailure;
        }
        if (collector.completed) {
            ModelResponse response = collector.response;
            return TurnResult.fromModel(turn, out.text(),
                    java.util.Optional.ofNullable(response).map(ModelResponse::usage));
        }
        if (collector.idle) {
            throw new ModelUnavailableException(turn.model(),
                    "the stream delivered nothing for " + streamIdleTimeout, null);
        }
        if (out.cancelled()) {
            return TurnResult.cancelled(turn, out.text());
        }
        Throwable e = collector.error;
        if (e == null) {
            throw new IllegalStateException("the stream of " + turn.model() + " ended without completing or failing");
        }
        throw e instanceof ParleyException pe ? pe : new ModelUnavailableException(turn.model(), describe(e), e);
    }

    /** Collects a provider's stream; its fields are written by the provider's threads, read after the end. */
    private static final class StreamCollector implements StreamingHandler {
        private final TurnStream out;
        private final java.util.concurrent.CountDownLatch ended = new java.util.concurrent.CountDownLatch(1);
        /** Released whenever the provider delivers or ends, so that the turn's thread passes the text on at once. */
        private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
        private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
        final java.util.concurrent.atomic.AtomicReference<RuntimeException> hookFailure =
                new java.util.concurrent.atomic.AtomicReference<>();
        volatile ModelResponse response;
        volatile Throwable error;
        /** Whether the provider completed before any cancel: the reply is COMPLETE. */
        volatile boolean completed;
        volatile boolean idle;
        private volatile long lastActivity = System.nanoTime();

        StreamCollector(TurnStream out) {
            this.out = out;
        }

        @Override
        public void onDelta(String delta) {
            if (delta == null || hookFailure.get() != null) {
                return;
            }
            lastActivity = System.nanoTime();
            try {
                out.emit(delta);
            } catch (RuntimeException e) {
                fail(e);
            }
            wake.release();
        }

        /** Only a filter or hook throws from the output path (the listener's are logged there): it fails the turn. */
        private void fail(RuntimeException e) {
            hookFailure.compareAndSet(null, e);
            out.cancel();
        }

        @Override
        public void onComplete(ModelResponse r) {
            if (finished.compareAndSet(false, true)) {
                response = r;
                completed = hookFailure.get() == null && out.complete();
                ended.countDown();
                wake.release();
            }
        }

        @Override
        public void onError(Throwable e) {
            if (finished.compareAndSet(false, true)) {
                error = e;
                ended.countDown();
                wake.release();
            }
        }

        @Override
        public boolean cancelled() {
            return out.cancelled();
        }

        /**
         * Waits on the turn's thread for the provider to end, passing on what it delivers from its own threads
         * meanwhile (through the stream's filters and hooks, here rather than on the provider's thread).
         */
        void awaitEnd(TurnStream stream, long idleNanos) {
            long cancelSeenAt = 0;
            try {
                while (true) {
                    wake.tryAcquire(20, java.util.concurrent.TimeUnit.MILLISECONDS);
                    wake.drainPermits();
                    deliver(stream);
                    if (ended.getCount() == 0) {
                        return;
                    }
                    if (!stream.cancelled() && System.nanoTime() - lastActivity > idleNanos) {
                        idle = true;
                        stream.cancel();
                        return;
                    }
                    if (stream.cancelled()) {
                        long now = System.nanoTime();
                        if (cancelSeenAt == 0) {
                            cancelSeenAt = now;
                        } else if (now - cancelSeenAt > CANCEL_GRACE_MILLIS * 1_000_000) {
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stream.cancel();
            }
        }

        private void deliver(TurnStream stream) {
            try {
                stream.deliverPending();
            } catch (RuntimeException e) {
                fail(e);
            }
        }
    }

    /**
     * The public description of a provider failure: its kind (timeout, HTTP status, connection refused, malformed
     * response), never the provider's own message, which is logged at DEBUG only and stays on the cause.
     */
    static String describe(Throwable e) {
        if (LOG.isDebugEnabled()) {
            LOG.debug("Model provider failed", e);
        }
        return dev.parley.core.internal.ProviderFailures.kind(e);
    }
}
