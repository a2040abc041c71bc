package dev.parley.core.internal;

import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.values.TurnRecord;

/**
 * The store as one turn sees it: its commit carries the events the turn's stages recorded with it
 * ({@link dev.parley.api.values.EngineServices#recordWithTurn}), which reach the host's sink once stored, and is
 * reported to the turn's listener, start and end (or failure), then what it counted and charged. Every other call goes to the store as is. Thread
 * safe as the store is.
 */
final class ObservedStore extends ForwardingConversationStore {
    private final EngineListener listener;
    private final EngineListener.TurnContext context;
    private final FencedServices turn;

    ObservedStore(ConversationStore store, EngineListener listener, EngineListener.TurnContext context,
                  FencedServices turn) {
        super(store);
        this.listener = listener;
        this.context = context;
        this.turn = turn;
    }

    @Override
    public Message commitTurn(TurnRecord record) {
        java.util.List<dev.parley.api.values.AuditEvent> events = turn.turnEvents();
        if (!events.isEmpty()) {
            java.util.List<dev.parley.api.values.AuditEvent> all = new java.util.ArrayList<>(record.events());
            all.addAll(events);
            record = record.withEvents(all);
        }
        listener.commitStart(context);
        Message stored;
        try {
            stored = delegate.commitTurn(record);
        } catch (RuntimeException e) {
            listener.commitFailed(context, e);
            throw e;
        }
        listener.commitEnd(context);
        listener.turnCharged(context, record.usage(),
                record.charge() == null ? dev.parley.api.Credits.unmetered() : stored.credits());
        turn.stored(record);
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
