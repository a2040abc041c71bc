package dev.parley.core.internal;

import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.TurnRecord;

/**
 * The store as the pipeline of one send sees it: the turn commits with the count of streams ended on the
 * conversation when the send began, so that the store refuses it when a stream started or ran meanwhile. With
 * the send's refusal when a stream holds the conversation at its start, a send and a stream never both store
 * turns they ran side by side. Every other call goes to the store as is. Thread safe as the store is.
 */
final class SendFencedStore extends ForwardingConversationStore {
    private final long streamsEnded;

    SendFencedStore(ConversationStore store, long streamsEnded) {
        super(store);
        this.streamsEnded = streamsEnded;
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        // A blocked turn stores no message: nothing of it can clash with a stream's turn.
        return delegate.commitTurn(turn.blocked() != null ? turn : turn.withStreamsEnded(streamsEnded));
    }

    /** Closing is the engine's business, not a stage's. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "SendFencedStore[" + delegate + "]";
    }
}
