package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.spi.AuditEvent;
import dev.parley.api.spi.ConversationFilter;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.TurnClaim;
import dev.parley.api.spi.TurnRecord;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The store as the pipeline of one stream sees it: a turn commits only while the stream still holds its
 * conversation's lock. Right before the commit the lease is renewed; when that fails (the lease ran out and
 * another engine took the lock), or the lease keeper already saw it lost, the commit is refused with
 * {@link ConversationLockedException} and nothing of the turn is stored. The renewal gives the commit a whole
 * lease to finish in. A commit on a thread interrupted by the engine's close still runs: the interrupt is set
 * aside for the commit, so a store doing I/O is not broken by it, and restored after. Every other call goes to
 * the store as is. Thread safe as the store is.
 */
final class LeaseFencedStore implements ConversationStore {
    private final ConversationStore store;
    private final StreamRun run;
    private final String holder;
    private final Duration lease;
    private final Clock clock;

    LeaseFencedStore(ConversationStore store, StreamRun run, String holder, Duration lease, Clock clock) {
        this.store = store;
        this.run = run;
        this.holder = holder;
        this.lease = lease;
        this.clock = clock;
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        boolean interrupted = Thread.interrupted();
        try {
            if (run.leaseLost() || !store.renewStreamLock(turn.conversationId(), holder, clock.instant(), lease)) {
                run.loseLease();
                throw new ConversationLockedException(turn.conversationId(),
                        "the stream lost its lock to another holder; its turn was not stored");
            }
            return store.commitTurn(turn);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void insert(ConversationInfo conversation, AuditEvent created) {
        store.insert(conversation, created);
    }

    @Override
    public Optional<ConversationInfo> find(String conversationId) {
        return store.find(conversationId);
    }

    @Override
    public Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                                     AuditEvent updated) {
        return store.updateSettings(conversationId, patch, at, updated);
    }

    @Override
    public boolean delete(String conversationId, Instant at, AuditEvent deleted) {
        return store.delete(conversationId, at, deleted);
    }

    @Override
    public Page<ConversationInfo> list(ConversationFilter filter, PageRequest page) {
        return store.list(filter, page);
    }

    @Override
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        return store.recentMessages(conversationId, beforeSequence, limit);
    }

    @Override
    public Page<Message> messages(String conversationId, PageRequest page) {
        return store.messages(conversationId, page);
    }

    @Override
    public TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease) {
        return store.claimTurn(conversationId, promptId, fingerprint, at, lease);
    }

    @Override
    public boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease) {
        return store.renewTurn(conversationId, promptId, token, at, lease);
    }

    @Override
    public void releaseTurn(String conversationId, String promptId, String token) {
        store.releaseTurn(conversationId, promptId, token);
    }

    @Override
    public boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return store.acquireStreamLock(conversationId, holder, now, lease);
    }

    @Override
    public boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return store.renewStreamLock(conversationId, holder, now, lease);
    }

    @Override
    public void releaseStreamLock(String conversationId, String holder) {
        store.releaseStreamLock(conversationId, holder);
    }

    @Override
    public Optional<StreamLock> streamLock(String conversationId, Instant now) {
        return store.streamLock(conversationId, now);
    }

    @Override
    public boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now) {
        return store.requestStreamCancel(conversationId, holderPrefix, now);
    }

    @Override
    public void append(AuditEvent event) {
        store.append(event);
    }

    @Override
    public List<AuditEvent> events(String conversationId) {
        return store.events(conversationId);
    }

    /** Closing is the engine's business, not a stage's. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "LeaseFencedStore[" + store + "]";
    }
}
