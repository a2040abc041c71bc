package dev.parley.api.values;

import java.time.Instant;
import java.util.Objects;

/**
 * Something that happened to a conversation, kept for audit. Immutable and thread safe. The detail never holds
 * prompt or reply text.
 *
 * @param id the event id
 * @param type what happened
 * @param conversationId the conversation
 * @param organizationId its organization
 * @param workspaceId its workspace
 * @param actorId the user who caused it
 * @param at when
 * @param detail a short machine-readable detail (an error code, the changed fields), or empty
 */
public record AuditEvent(String id, Type type, String conversationId, String organizationId, String workspaceId,
                         String actorId, Instant at, String detail) {

    /** Kinds of audit event. */
    public enum Type {
        CONVERSATION_CREATED, CONVERSATION_UPDATED, CONVERSATION_DELETED, TURN_FAILED,
        /** A conversation hard-deleted by a purge or an erasure; its detail counts its messages. */
        CONVERSATION_PURGED,
        /** An erasure removed a user's text from the conversation's messages; its detail counts them. */
        USER_ERASED,
        /** A conversation stored from an export; its detail is the number of messages. */
        CONVERSATION_IMPORTED,
        /** A policy finding that was logged; its detail names the rules. */
        POLICY_VIOLATION,
        /** A policy blocked a prompt before the model call. */
        PROMPT_BLOCKED,
        /** A policy blocked a reply, while it streamed or after it. */
        REPLY_BLOCKED,
        /** A policy replaced text of the prompt or the reply with placeholders. */
        REDACTED,
        /** A policy finding was handed to the alert sink. */
        ALERT_RAISED,
        /** Compaction stored a summary; its detail gives the messages it covers and its tokens. */
        CONVERSATION_COMPACTED,
        /** A compaction failed, or the POST policies withheld its summary; its detail is the error code. */
        COMPACTION_FAILED
    }

    public AuditEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(conversationId, "conversationId");
        Objects.requireNonNull(organizationId, "organizationId");
        Objects.requireNonNull(workspaceId, "workspaceId");
        Objects.requireNonNull(actorId, "actorId");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(detail, "detail");
    }
}
