package dev.parley.api.spi;

/**
 * The output path of a streamed turn, as the stages see it ({@link Turn#stream()}). A stage that wants to watch
 * the reply while it streams registers a {@link ChunkHook} before it proceeds; the provider call stage emits
 * each delta through here, and the engine hands it on to the caller's listener. Thread safe.
 */
public interface TurnStream {

    /** Registers a hook that sees every later delta, in order, before the caller's listener does. */
    void addChunkHook(ChunkHook hook);

    /**
     * Hands one delta on: to every hook, then to the caller's listener. Called by the provider call stage, or by a
     * host's stage from any thread: deltas are handed on one at a time, and an emit after the stream ended is
     * ignored. A hook's {@link dev.parley.api.ParleyException} propagates from here; any other exception of a hook
     * propagates as an {@link IllegalStateException} naming the hook's stage.
     */
    void emit(String delta);

    /** Asks the stream to stop; what has been emitted so far becomes the reply, with status CANCELLED. */
    void cancel();

    /** Whether the stream was asked to stop, by the caller, another engine, or a hook. */
    boolean cancelled();

    /**
     * Sees a streamed reply piece by piece. To stop the stream and keep what has arrived, call
     * {@link TurnStream#cancel()}; to stop it and fail the turn (nothing stored), throw a
     * {@link dev.parley.api.ParleyException}, for example a {@link dev.parley.api.PolicyBlockedException}.
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
