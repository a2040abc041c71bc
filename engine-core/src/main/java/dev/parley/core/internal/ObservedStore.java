package dev.parley.core.internal;

import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.TurnRecord;

/**
 * The store as one turn with a listener sees it: its commit is reported to the listener, start and end (or
 * failure). Every other call goes to the store as is. Thread safe as the store is.
 */
final class ObservedStore extends ForwardingConversationStore {
    private final EngineListener listener;
    private final EngineListener.TurnContext context;

    ObservedStore(ConversationStore store, EngineListener listener, EngineListener.TurnContext context) {
        super(store);
        this.listener = listener;
        this.context = context;
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        listener.commitStart(context);
        Message stored;
        try {
            stored = delegate.commitTurn(turn);
        } catch (RuntimeException e) {
            listener.commitFailed(context, e);
            throw e;
        }
        listener.commitEnd(context);
        return stored;
    }

    /** Closing is the engine's business, not a stage's. */
    @Override
    public void close() {
    }

    @Override
    public String toString() {
        return "ObservedStore[" + delegate + "]";
    }
}
