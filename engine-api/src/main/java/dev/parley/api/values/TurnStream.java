package dev.parley.api.values;

import dev.parley.api.spi.StreamFilter;

/**
 * The output path of a streamed turn, as the stages see it ({@link Turn#stream()}). A stage that wants to watch
 * the reply while it streams registers a {@link ChunkHook} before it proceeds, and one that must hold back or
 * rewrite text registers a {@link StreamFilter}; the provider call stage emits each delta through here, and the
 * engine passes it through the filters and hooks to the caller's listener.
 *
 * <p><b>Threads.</b> With no filter and no hook, a delta goes to the listener on the thread that emits it. With
 * any, a delta emitted on another thread than the one running the turn (a provider's callback thread) is queued,
 * and {@link #deliverPending()} or {@link #text()}, called by the thread running the turn, passes it on: so a
 * slow filter or hook never holds up the provider. Filters and hooks are added before the stage proceeds; adding
 * one after the first delta was emitted is refused.
 *
 * <p>The output ends in exactly one way: the stream is {@linkplain #cancel() cancelled} (the reply is what was
 * emitted until then, CANCELLED), or the answer is {@linkplain #complete() completed} (COMPLETE), or the turn
 * fails. Cancel and complete are one atomic decision: whichever comes first wins, and the other is a no-op.
 *
 * <p>Thread safe: {@link #emit} may be called from several threads at once (a provider stage may deliver from
 * its own threads); each delta is handed on whole, one at a time, so filters, hooks and the listener never see
 * two deltas at once, and {@link #text()} holds every piece handed to the listener exactly once, in order. Once
 * the output has ended, further deltas are ignored: none reaches a hook or the listener after the stream was
 * cancelled or delivered its terminal event, and text still queued or held back when the stream is cancelled is
 * dropped (nobody saw it, so it is not part of the reply).
 */
public interface TurnStream {

    /**
     * Registers a hook that sees every later piece of text, in order, before the caller's listener does (after
     * the filters of stages nearer the model, see {@link StreamFilter}).
     *
     * @throws IllegalStateException when text was already emitted
     */
    void addChunkHook(ChunkHook hook);

    /**
     * Registers a filter that may hold back, release and replace the text before hooks of outer stages and the
     * caller's listener see it; see {@link StreamFilter} for the order and the threads it runs on.
     *
     * @throws IllegalStateException when text was already emitted
     */
    void addFilter(StreamFilter filter);

    /**
     * Passes text that other threads emitted and that is still queued through the filters and hooks, on the
     * calling thread, and hands what they release to the listener. A provider stage whose model delivers on its
     * own threads calls it from the thread running the turn while it waits for the model, so that the text
     * streams as it arrives. A filter's or hook's exception propagates from here as it does from {@link #emit}.
     * A no-op when nothing is queued.
     */
    void deliverPending();

    /**
     * Hands one delta on: through the filters and hooks, then what they release to the caller's listener and to
     * {@link #text()}. Called by the provider call stage, from any thread; on another thread than the one
     * running the turn, and with a filter or hook registered, the delta is only queued (see
     * {@link #deliverPending()}). A filter's or hook's {@link dev.parley.api.ParleyException} propagates from
     * where the delta is passed on; any other exception of one propagates as an {@link IllegalStateException}
     * that names the stage which added it. Either way the delta reaches neither the listener nor the text.
     *
     * @return true when the delta was taken; false when it was ignored because the output has ended
     *         (cancelled, completed, or the stream delivered its terminal event)
     */
    boolean emit(String delta);

    /**
     * Asks the stream to stop; what has been emitted so far becomes the reply, with status CANCELLED. A no-op
     * once the answer was {@linkplain #complete() completed}.
     */
    void cancel();

    /** Whether the stream was asked to stop, by the caller, another engine, the engine's close, or a hook. */
    boolean cancelled();

    /**
     * Declares the model's answer complete, as one atomic decision against {@link #cancel()}: a provider stage
     * calls it when the model reports the end of its answer.
     *
     * @return true when the answer is complete: the reply is COMPLETE, with the usage the model reported, and a
     *         later cancel is a no-op; false when the stream was cancelled first (the reply is CANCELLED)
     */
    boolean complete();

    /**
     * Every piece handed to the listener so far, concatenated in order: the reply text a provider stage returns,
     * so that what the caller saw is what is stored. It first {@linkplain #deliverPending() passes on} what is
     * queued; once the answer is {@linkplain #complete() complete}, it also ends the filters, which release what
     * they held back. Call it from the thread running the turn.
     */
    String text();

    /**
     * Sees a streamed reply piece by piece. To stop the stream and keep what has arrived, call
     * {@link TurnStream#cancel()}; to stop it and fail the turn (nothing stored), throw a
     * {@link dev.parley.api.ParleyException}, for example a {@link dev.parley.api.PolicyBlockedException}.
     * Hooks are called one delta at a time, never concurrently for one stream.
     */
    @FunctionalInterface
    interface ChunkHook {

        /**
         * Called for each delta.
         *
         * @param delta the new piece
         * @param window the end of the reply so far, this delta included: at least the last
         *               {@link #WINDOW} characters before it, so that text split across deltas is seen whole
         */
        void onChunk(String delta, String window);

        /** How many characters before each delta its window holds at least. */
        int WINDOW = 512;
    }
}
