package dev.parley.store.jdbc.internal;

import org.jdbi.v3.core.Handle;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The statements of retention purges and erasure. None runs on a turn; each touches at most one batch of one
 * conversation's rows (by its key), but for the candidate lists, which read the organization's conversations in
 * id order through its index, a page at a time, and {@link #unlinkUser}, which rewrites one user's rows of the
 * organization. Every method runs on the caller's {@link Handle}, in whatever transaction the caller opened.
 */
public final class PurgeDao {
    /** Conversations to purge, a page after {@code :after} in id order. */
    static final String CANDIDATES = "SELECT id FROM parley_conversation WHERE organization_id = :org "
            + "AND (:anyWorkspace OR workspace_id = :ws) AND id > :after AND ("
            + "(:inactive AND updated_at < :inactiveBefore) "
            + "OR (:deleted AND deleted_at < :deletedBefore)) ORDER BY id LIMIT :limit";
    static final String OWNED = "SELECT id FROM parley_conversation WHERE organization_id = :org "
            + "AND owner_id = :owner AND id > :after ORDER BY id LIMIT :limit";
    static final String OF_ORGANIZATION = "SELECT id FROM parley_conversation WHERE organization_id = :org "
            + "AND id > :after ORDER BY id LIMIT :limit";
    static final String SCOPE = "SELECT organization_id, workspace_id FROM parley_conversation WHERE id = :id";
    /** The conversation's first {@code :batch} messages: primary key range. */
    static final String DELETE_MESSAGES = "DELETE FROM parley_message WHERE conversation_id = :c AND seq IN ("
            + "SELECT seq FROM parley_message WHERE conversation_id = :c ORDER BY seq LIMIT :batch)";
    /** The conversation's first {@code :batch} message-id rows: primary key range. */
    static final String DELETE_TURNS = "DELETE FROM parley_turn WHERE conversation_id = :c AND prompt_id IN ("
            + "SELECT prompt_id FROM parley_turn WHERE conversation_id = :c ORDER BY prompt_id LIMIT :batch)";
    static final String DELETE_STREAM_LOCK = "DELETE FROM parley_stream_lock WHERE conversation_id = :c";
    static final String DELETE_HOLDS = "DELETE FROM parley_credit_hold WHERE conversation_id = :c";
    static final String CLEAR_EXCERPTS = "UPDATE parley_violation SET excerpt = '' WHERE conversation_id = :c";
    static final String UNLINK_LEDGER = "UPDATE parley_credit_ledger SET conversation_id = NULL, message_id = NULL "
            + "WHERE conversation_id = :c";
    static final String DELETE_CONVERSATION = "DELETE FROM parley_conversation WHERE id = :c";
    /** The next {@code :batch} messages of the user's turns in the conversation. */
    static final String ERASE_TAGGED = "UPDATE parley_message SET body = '', user_tag = NULL, source_tag = NULL "
            + "WHERE conversation_id = :c AND seq IN (SELECT seq FROM parley_message WHERE conversation_id = :c "
            + "AND user_tag = :tag ORDER BY seq LIMIT :batch)";
    static final String UNLINK_USAGE = "UPDATE parley_usage_day SET user_id = :pseudonym WHERE organization_id = :org "
            + "AND user_id = :user";
    static final String UNLINK_EVENTS = "UPDATE parley_event SET actor_id = :pseudonym WHERE organization_id = :org "
            + "AND actor_id = :user";

    /** The organization and workspace of a conversation, live or deleted. */
    public record Scope(String organizationId, String workspaceId) {
    }

    public List<String> candidates(Handle h, String org, String ws, Instant inactiveBefore, Instant deletedBefore,
                                   String after, int limit) {
        return h.createQuery(CANDIDATES)
                .bind("org", org)
                .bind("anyWorkspace", ws == null)
                .bind("ws", ws == null ? "" : ws)
                .bind("after", after == null ? "" : after)
                .bind("inactive", inactiveBefore != null)
                .bind("inactiveBefore", Rows.utc(inactiveBefore == null ? Instant.EPOCH : inactiveBefore))
                .bind("deleted", deletedBefore != null)
                .bind("deletedBefore", Rows.utc(deletedBefore == null ? Instant.EPOCH : deletedBefore))
                .bind("limit", limit)
                .mapTo(String.class)
                .list();
    }

    public List<String> owned(Handle h, String org, String owner, String after, int limit) {
        return h.createQuery(OWNED).bind("org", org).bind("owner", owner).bind("after", after == null ? "" : after)
                .bind("limit", limit).mapTo(String.class).list();
    }

    public List<String> ofOrganization(Handle h, String org, String after, int limit) {
        return h.createQuery(OF_ORGANIZATION).bind("org", org).bind("after", after == null ? "" : after)
                .bind("limit", limit).mapTo(String.class).list();
    }

    public Optional<Scope> scope(Handle h, String conversationId) {
        return h.createQuery(SCOPE).bind("id", conversationId)
                .map((rs, ctx) -> new Scope(rs.getString(1), rs.getString(2))).findOne();
    }

    /** Deletes up to {@code batch} of the conversation's messages, oldest first; the number deleted. */
    public int deleteMessages(Handle h, String conversationId, int batch) {
        return h.createUpdate(DELETE_MESSAGES).bind("c", conversationId).bind("batch", batch).execute();
    }

    /** Deletes up to {@code batch} of the conversation's message-id rows; the number deleted. */
    public int deleteTurns(Handle h, String conversationId, int batch) {
        return h.createUpdate(DELETE_TURNS).bind("c", conversationId).bind("batch", batch).execute();
    }

    /** Deletes what is left of the conversation but its violations, whose excerpts it clears. */
    public void deleteRest(Handle h, String conversationId, boolean unlinkLedger) {
        for (String sql : List.of(DELETE_STREAM_LOCK, DELETE_HOLDS, CLEAR_EXCERPTS)) {
            h.createUpdate(sql).bind("c", conversationId).execute();
        }
        if (unlinkLedger) {
            h.createUpdate(UNLINK_LEDGER).bind("c", conversationId).execute();
        }
        h.createUpdate(DELETE_CONVERSATION).bind("c", conversationId).execute();
    }

    /** Erases up to {@code batch} of the messages tagged {@code tag}; the number changed. */
    public int eraseTagged(Handle h, String conversationId, String tag, int batch) {
        return h.createUpdate(ERASE_TAGGED).bind("c", conversationId).bind("tag", tag).bind("batch", batch).execute();
    }

    public void unlinkUser(Handle h, String org, String user, String pseudonym) {
        h.createUpdate(UNLINK_USAGE).bind("org", org).bind("user", user).bind("pseudonym", pseudonym).execute();
        h.createUpdate(UNLINK_EVENTS).bind("org", org).bind("user", user).bind("pseudonym", pseudonym).execute();
    }
}
