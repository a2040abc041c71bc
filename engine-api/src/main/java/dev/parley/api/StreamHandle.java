package dev.parley.api;

/** The running stream of one turn. */
public interface StreamHandle {

    /** Asks the stream to stop; the output so far is kept. A no-op once the stream has ended. */
    void cancel();
}
