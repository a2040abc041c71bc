package dev.parley.core.internal;

import dev.parley.api.ConversationLockedException;
import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.TurnRecord;

import java.time.Clock;
import java.time.Duration;

/**
 * The store as the pipeline of one stream sees it: a turn commits only while the stream still holds its
 * conversation's lock. Right before the commit the lease is renewed; when that fails (the lease ran out and
 * another engine took the lock), or the lease keeper already saw it lost, the commit is refused with
 * {@link ConversationLockedException} and nothing of the turn is stored. The renewal gives the commit a whole
 * lease to finish in. A commit on a thread interrupted by the engine's close still runs: the interrupt is set
 * aside for the commit, so a store doing I/O is not broken by it, and restored after. Every other call goes to
 * the store as is. Thread safe as the store is.
 */
final class LeaseFencedStore extends ForwardingConversationStore {
    private final StreamRun run;
    private final String holder;
    private final Duration lease;
    private final Clock clock;

    LeaseFencedStore(ConversationStore store, StreamRun run, String holder, Duration lease, Clock clock) {
        super(store);
        this.run = run;
        this.holder = holder;
        this.lease = lease;
        this.clock = clock;
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        boolean interrupted = Thread.interrupted();
        try {
            if (run.leaseLost() || !delegate.renewStreamLock(turn.conversationId(), holder, clock.instant(), lease)) {
                run.loseLease();
                throw new ConversationLockedException(turn.conversationId(),
                        "the stream lost its lock to another holder; its turn was not stored");
            }
            return delegate.commitTurn(turn);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Closing is the engine's business, not a stage's. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "LeaseFencedStore[" + delegate + "]";
    }
}
