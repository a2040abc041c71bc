package dev.parley.api.spi;

import dev.parley.api.Message;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;

import java.time.Duration;
import java.time.Instant;

/**
 * The turns of a {@link ConversationStore}: message-id claims and the commit of a finished turn, one transaction
 * per turn. Claims are leases, measured as {@link ConversationStore} says. Every method is atomic and thread
 * safe.
 */
public interface TurnLedger {
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
}
