package dev.parley.core;

import dev.parley.api.Message;
import dev.parley.api.spi.ConversationStore;
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
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        List<Message> page = delegate.recentMessages(conversationId, beforeSequence, limit);
        historyReads.incrementAndGet();
        historyMessagesRead.addAndGet(page.size());
        return page;
    }

    void resetCounts() {
        historyMessagesRead.set(0);
        historyReads.set(0);
    }
}
