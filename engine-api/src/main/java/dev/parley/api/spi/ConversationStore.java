package dev.parley.api.spi;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where conversations, messages, turn claims and audit events live. Every method is atomic; implementations
 * must be thread safe and report their own failures as {@link dev.parley.api.StoreFailureException}.
 *
 * <p>Deleted conversations are soft-deleted: they stay in the store but no read or list returns them, and no
 * write changes them.
 *
 * <p><b>Leases.</b> Message-id claims and stream locks are leases. A store shared by several engines measures
 * them by one clock that all of them share, never by each engine's own, so that engines whose clocks disagree
 * cannot end each other's live leases: the JDBC store uses the database server's clock, and the {@code at} and
 * {@code now} arguments of the lease methods are then only recorded. A store private to one engine (the
 * in-memory store) uses those arguments, the engine's clock.
 */
public interface ConversationStore extends AutoCloseable {

    /** Stores a new conversation and its creation event, in one transaction. */
    void insert(ConversationInfo conversation, AuditEvent created);

    /** The live conversation with that id. */
    Optional<ConversationInfo> find(String conversationId);

    /**
     * Applies a patch to a live conversation in one atomic step: only the fields the patch sets or clears change,
     * so concurrent patches of different fields, from any engine, all take effect. Totals are untouched. Empty
     * when not live. The event is stored in the same transaction, only when the patch was applied.
     */
    Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                              AuditEvent updated);

    /**
     * Soft-deletes a live conversation and stores the event in the same transaction; false (and no event) when
     * it is not live.
     */
    boolean delete(String conversationId, Instant at, AuditEvent deleted);

    /** The live conversations the filter lets through, newest first (creation time, then id, descending). */
    Page<ConversationInfo> list(ConversationFilter filter, PageRequest page);

    /**
     * Up to {@code limit} messages of the conversation with a sequence below {@code beforeSequence}, newest
     * first. This is how context is built without loading the whole history, so it must cost the same however
     * long the conversation is.
     */
    List<Message> recentMessages(String conversationId, long beforeSequence, int limit);

    /** One page of the conversation's messages, oldest first. */
    Page<Message> messages(String conversationId, PageRequest page);

    /**
     * Claims a message id of a conversation for one turn, until {@code at + lease} unless renewed. Exactly one of any
     * number of concurrent claims of the same id, from any number of engines sharing the store, gets
     * {@link TurnClaim.Claimed} with a fresh random token; the others get {@link TurnClaim.InProgress} until the
     * claimant commits or releases, and {@link TurnClaim.Completed} with the stored reply after it commits. A
     * pending claim whose lease ran out (its holder died or stalled) is taken over: the new claimant gets a new
     * token and the old token is dead. An id that is already another message's id in the conversation (a reply's)
     * gets {@link TurnClaim.IdInUse} and claims nothing.
     *
     * @param fingerprint a digest of the prompt, kept with the claim and returned to later claimants, so that a
     *                    reused id with a different prompt can be refused
     * @throws dev.parley.api.ConversationNotFoundException when the conversation does not exist
     */
    TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease);

    /**
     * Extends the claim held under {@code token} to {@code at + lease}; false when that token no longer holds it
     * (taken over, released or committed). A running turn renews its claim so that its lease can be short: a dead
     * engine's claim then frees its id within seconds.
     */
    boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease);

    /**
     * Stores a turn in one transaction: when it goes to history, its prompt and reply messages (numbered next in
     * the conversation) and the completion of its claim; in every case the conversation's totals grow by the
     * turn's usage. A turn with a {@linkplain TurnRecord#claimToken() claim token} completes only the claim that
     * token still holds: when the claim was taken over meanwhile nothing is stored. A turn with
     * {@linkplain TurnRecord#streamsEnded() a stream count} stores nothing when a stream holds the conversation's
     * live lock, or a stream ended on it since the count was read. The turn's {@linkplain TurnRecord#events()
     * events} are stored in the same transaction: with the turn, or not at all.
     *
     * @return the stored reply, numbered
     * @throws dev.parley.api.ConversationNotFoundException when the conversation is no longer live
     * @throws dev.parley.api.ConversationLockedException when the turn's claim is no longer its own, its id was
     *                                                    stored by another turn, or a stream ran beside it
     */
    Message commitTurn(TurnRecord turn);

    /**
     * Gives up the pending claim held under {@code token} without storing anything, so that the id may be tried
     * again. Does nothing when the token no longer holds the claim (taken over by another engine after its lease)
     * or the turn was committed.
     */
    void releaseTurn(String conversationId, String promptId, String token);

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

    /** Stores an audit event. */
    void append(AuditEvent event);

    /** The audit events of a conversation, oldest first. */
    List<AuditEvent> events(String conversationId);

    /** Releases the store's resources. The default does nothing. */
    @Override
    default void close() {
    }
}
