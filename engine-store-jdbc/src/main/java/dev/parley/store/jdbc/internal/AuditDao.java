package dev.parley.store.jdbc.internal;

import dev.parley.api.values.AuditEvent;
import org.jdbi.v3.core.Handle;

import java.util.List;

/** The statements on audit events: insert and a conversation's events in order. Not API. Stateless. */
public final class AuditDao {
    /** A new event; the database numbers it ({@code ordinal}). */
    static final String INSERT = "INSERT INTO parley_event (id, type, conversation_id, "
            + "organization_id, workspace_id, actor_id, occurred_at, detail) "
            + "VALUES (:id, :type, :c, :org, :ws, :actor, :at, :detail)";
    /** A conversation's events, oldest first. */
    static final String EVENTS = "SELECT " + Rows.EVENT_COLUMNS
            + " FROM parley_event WHERE conversation_id = :c ORDER BY conversation_id, ordinal";

    /** Stores {@code e}; 1, the rows inserted. */
    public int insert(Handle h, AuditEvent e) {
        return h.createUpdate(INSERT)
                .bind("id", e.id())
                .bind("type", e.type().name())
                .bind("c", e.conversationId())
                .bind("org", e.organizationId())
                .bind("ws", e.workspaceId())
                .bind("actor", e.actorId())
                .bind("at", Rows.utc(e.at()))
                .bind("detail", e.detail())
                .execute();
    }

    /** The conversation's events, oldest first. */
    public List<AuditEvent> events(Handle h, String conversationId) {
        return h.createQuery(EVENTS)
                .bind("c", conversationId)
                .map(Rows.EVENT)
                .list();
    }
}
