package dev.parley.core;

import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.HistoryMessage;
import dev.parley.core.internal.ForwardingConversationStore;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A store that counts the history messages the engine reads, around another store. */
final class CountingStore extends ForwardingConversationStore {
    final AtomicLong historyMessagesRead = new AtomicLong();
    final AtomicLong historyReads = new AtomicLong();

    CountingStore(ConversationStore delegate) {
        super(delegate);
    }

    @Override
    public List<HistoryMessage> recentHistory(String conversationId, long beforeSequence, int limit) {
        List<HistoryMessage> page = delegate.recentHistory(conversationId, beforeSequence, limit);
        historyReads.incrementAndGet();
        historyMessagesRead.addAndGet(page.size());
        return page;
    }

    void resetCounts() {
        historyMessagesRead.set(0);
        historyReads.set(0);
    }
}
