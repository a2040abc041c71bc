package dev.parley.api;

import java.time.Duration;

/** The running stream of one turn. Thread safe. */
public interface StreamHandle {

    /** The turn's message id. */
    String promptId();

    /** Asks the stream to stop; the output so far is stored as the reply, CANCELLED. A no-op once it has ended. */
    void cancel();

    /** Whether the terminal event has been delivered. */
    boolean isDone();

    /**
     * Waits until the terminal event has been delivered.
     *
     * @return false when the timeout passed first
     */
    boolean await(Duration timeout) throws InterruptedException;
}
