package dev.parley.api.spi;

import dev.parley.api.values.TurnRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The stream locks of a {@link ConversationStore}: one stream per conversation across every engine sharing the
 * store, as a lease measured as {@link ConversationStore} says, and a count of the streams ended that fences
 * sends. Every method is atomic and thread safe.
 */
public interface StreamLocks {
    /**
     * Takes the conversation's stream lock for {@code holder} until {@code now + lease}, when no other holder has
     * it or the other holder's lease has run out (a holder that died). Exactly one of any number of concurrent
     * callers, from any number of engines sharing the store, gets true.
     */
    boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease);

    /** Extends the holder's lease to {@code now + lease}; false when the holder no longer has the lock. */
    boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease);

    /**
     * Gives the lock up if {@code holder} has it, and counts one more stream ended on the conversation
     * ({@link StreamStatus#streamsEnded()}), in one atomic step; otherwise does nothing.
     */
    void releaseStreamLock(String conversationId, String holder);

    /**
     * Gives the lock up for a while if {@code holder} has it, before its stream ran its turn (a re-stream waiting
     * for its message id, held by a turn elsewhere, must not keep other turns out meanwhile); the holder takes it
     * again with {@link #acquireStreamLock}. Unlike {@link #releaseStreamLock} it counts no stream as ended. The
     * default releases it as ended, which only makes a send that ran meanwhile store nothing.
     */
    default void yieldStreamLock(String conversationId, String holder) {
        releaseStreamLock(conversationId, holder);
    }

    /** The conversation's stream lock while its lease runs, if any. */
    default Optional<StreamLock> streamLock(String conversationId, Instant now) {
        return streamStatus(conversationId, now).lock();
    }

    /**
     * The conversation's stream lock while its lease runs, and how many streams have ended on it, read together
     * (one snapshot). A send reads it when it begins: it is refused while a stream holds the conversation, and
     * commits with {@link TurnRecord#streamsEnded()} so that a stream that ran while the send did makes the send
     * store nothing. A conversation that does not exist has none ended and no lock.
     */
    StreamStatus streamStatus(String conversationId, Instant now);

    /**
     * A conversation's streams, as {@link #streamStatus} reads them.
     *
     * @param streamsEnded how many streams released the conversation's lock so far; only ever grows
     * @param lock the live stream lock, if any
     */
    record StreamStatus(long streamsEnded, Optional<StreamLock> lock) {
        public StreamStatus {
            java.util.Objects.requireNonNull(lock, "lock");
        }
    }

    /**
     * Marks the conversation's live stream lock as asked to cancel, when its holder starts with
     * {@code holderPrefix} (compared literally; the empty prefix matches every holder); false when there is no
     * such lock. The engine starts each holder with a key of the stream's message id, so a cancel meant for one
     * stream cannot stop the next.
     */
    boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now);

    /**
     * A held stream lock.
     *
     * @param conversationId the conversation
     * @param holder who holds it
     * @param expiresAt when the lease ends unless renewed
     * @param cancelRequested whether someone asked the stream to stop
     */
    record StreamLock(String conversationId, String holder, Instant expiresAt, boolean cancelRequested) {
    }
}
