package dev.parley.api.spi;

import dev.parley.api.values.AuditEvent;

import java.util.List;

/**
 * The audit events of a {@link ConversationStore}, oldest first per conversation. Thread safe.
 */
public interface AuditLog {
    /** Stores an audit event. */
    void append(AuditEvent event);

    /** The audit events of a conversation, oldest first. */
    List<AuditEvent> events(String conversationId);
}
