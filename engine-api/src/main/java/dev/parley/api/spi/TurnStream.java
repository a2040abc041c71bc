package dev.parley.api.spi;

/**
 * The output path of a streamed turn, as the stages see it ({@link Turn#stream()}). A stage that wants to watch
 * the reply while it streams registers a {@link ChunkHook} before it proceeds; the provider call stage emits
 * each delta through here, and the engine hands it on to the caller's listener.
 *
 * <p>The output ends in exactly one way: the stream is {@linkplain #cancel() cancelled} (the reply is what was
 * emitted until then, CANCELLED), or the answer is {@linkplain #complete() completed} (COMPLETE), or the turn
 * fails. Cancel and complete are one atomic decision: whichever comes first wins, and the other is a no-op.
 *
 * <p>Thread safe: {@link #emit} may be called from several threads at once (a provider stage may deliver from
 * its own threads); each delta is handed on whole, one at a time, so hooks and the listener never see two
 * deltas at once, and {@link #text()} holds every delta handed on exactly once, in the order they were handed
 * on. Once the output has ended, further deltas are ignored: none reaches a hook or the listener after the
 * stream was cancelled, completed, or delivered its terminal event.
 */
public interface TurnStream {

    /** Registers a hook that sees every later delta, in order, before the caller's listener does. */
    void addChunkHook(ChunkHook hook);

    /**
     * Hands one delta on: to every hook, then to the caller's listener, and adds it to {@link #text()}. Called
     * by the provider call stage, from any thread. A hook's {@link dev.parley.api.ParleyException} propagates
     * from here; any other exception of a hook propagates as an {@link IllegalStateException} that names the
     * stage which added the hook. Either way the delta reaches neither the listener nor the text.
     *
     * @return true when the delta was handed on; false when it was ignored because the output has ended
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
     * Every delta handed on so far, concatenated in the order the hooks and the listener received them: the
     * reply text a provider stage returns, so that what the caller saw is what is stored.
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
