package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationPatch;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.HistoryMessage;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A store that hands every call to another store; a subclass overrides what it changes. Not API: may change in
 * any release. Thread safe as the delegate is.
 */
public abstract class ForwardingConversationStore implements ConversationStore {
    protected final ConversationStore delegate;

    protected ForwardingConversationStore(ConversationStore delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The store calls are handed to. */
    public ConversationStore delegate() {
        return delegate;
    }

    @Override
    public Message commitTurn(TurnRecord turn) {
        return delegate.commitTurn(turn);
    }

    @Override
    public void insert(ConversationInfo conversation, AuditEvent created) {
        delegate.insert(conversation, created);
    }

    @Override
    public Optional<ConversationInfo> find(String conversationId) {
        return delegate.find(conversationId);
    }

    @Override
    public Optional<ConversationInfo> updateSettings(String conversationId, ConversationPatch patch, Instant at,
                                                     AuditEvent updated) {
        return delegate.updateSettings(conversationId, patch, at, updated);
    }

    @Override
    public boolean delete(String conversationId, Instant at, AuditEvent deleted) {
        return delegate.delete(conversationId, at, deleted);
    }

    @Override
    public Page<ConversationInfo> list(ConversationFilter filter, PageRequest page) {
        return delegate.list(filter, page);
    }

    @Override
    public List<Message> recentMessages(String conversationId, long beforeSequence, int limit) {
        return delegate.recentMessages(conversationId, beforeSequence, limit);
    }

    @Override
    public List<HistoryMessage> recentHistory(String conversationId, long beforeSequence, int limit) {
        return delegate.recentHistory(conversationId, beforeSequence, limit);
    }

    @Override
    public Page<Message> messages(String conversationId, PageRequest page) {
        return delegate.messages(conversationId, page);
    }

    @Override
    public TurnClaim claimTurn(String conversationId, String promptId, String fingerprint, Instant at, Duration lease) {
        return delegate.claimTurn(conversationId, promptId, fingerprint, at, lease);
    }

    @Override
    public boolean renewTurn(String conversationId, String promptId, String token, Instant at, Duration lease) {
        return delegate.renewTurn(conversationId, promptId, token, at, lease);
    }

    @Override
    public void releaseTurn(String conversationId, String promptId, String token) {
        delegate.releaseTurn(conversationId, promptId, token);
    }

    @Override
    public boolean acquireStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return delegate.acquireStreamLock(conversationId, holder, now, lease);
    }

    @Override
    public boolean renewStreamLock(String conversationId, String holder, Instant now, Duration lease) {
        return delegate.renewStreamLock(conversationId, holder, now, lease);
    }

    @Override
    public void releaseStreamLock(String conversationId, String holder) {
        delegate.releaseStreamLock(conversationId, holder);
    }

    @Override
    public Optional<StreamLock> streamLock(String conversationId, Instant now) {
        return delegate.streamLock(conversationId, now);
    }

    @Override
    public StreamStatus streamStatus(String conversationId, Instant now) {
        return delegate.streamStatus(conversationId, now);
    }

    @Override
    public Optional<ConversationState> findWithStreams(String conversationId, Instant now) {
        return delegate.findWithStreams(conversationId, now);
    }

    @Override
    public void yieldStreamLock(String conversationId, String holder) {
        delegate.yieldStreamLock(conversationId, holder);
    }

    @Override
    public boolean requestStreamCancel(String conversationId, String holderPrefix, Instant now) {
        return delegate.requestStreamCancel(conversationId, holderPrefix, now);
    }

    @Override
    public void append(AuditEvent event) {
        delegate.append(event);
    }

    @Override
    public List<AuditEvent> events(String conversationId) {
        return delegate.events(conversationId);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
