package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationFilter;
import dev.parley.store.jdbc.internal.Rows;
import org.jdbi.v3.core.statement.Query;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The WHERE clause of a conversation list, shaped so that one index serves it: a whole organization by the
 * organization index, an administered workspace by the workspace index, a plain member's own conversations by
 * the owner index. Only the mixed case (some administered workspaces plus own conversations elsewhere) needs
 * an OR of two indexes.
 */
record ConversationQuerySql(String where, ConversationFilter filter, List<String> adminWorkspaces) {

    static ConversationQuerySql of(ConversationFilter f) {
        List<String> conditions = new ArrayList<>();
        conditions.add("organization_id = :org");
        conditions.add("deleted_at IS NULL");
        if (f.workspaceId() != null) {
            conditions.add("workspace_id = :ws");
        }
        if (f.repositoryId() != null) {
            conditions.add("repository_id = :repo");
        }
        Set<String> admin = f.adminWorkspaces();
        List<String> adminList = List.of();
        if (f.wholeOrganization() || (f.workspaceId() != null && admin.contains(f.workspaceId()))) {
            // every conversation in scope is visible
        } else if (admin.isEmpty() || f.workspaceId() != null) {
            conditions.add("owner_id = :owner");
        } else {
            adminList = admin.stream().sorted().toList();
            conditions.add("(workspace_id IN (<adminWorkspaces>) OR owner_id = :owner)");
        }
        return new ConversationQuerySql(String.join(" AND ", conditions), f, adminList);
    }

    /** Counts the conversations the filter lets through. */
    String count() {
        return "SELECT COUNT(*) FROM parley_conversation WHERE " + where;
    }

    /** One page of them, newest first; binds :limit and :offset besides the filter. */
    String page() {
        return "SELECT " + Rows.CONVERSATION_COLUMNS + " FROM parley_conversation WHERE " + where
                + " ORDER BY created_at DESC, id DESC LIMIT :limit OFFSET :offset";
    }

    Query bind(Query q) {
        q.bind("org", filter.organizationId());
        if (filter.workspaceId() != null) {
            q.bind("ws", filter.workspaceId());
        }
        if (filter.repositoryId() != null) {
            q.bind("repo", filter.repositoryId());
        }
        if (where.contains(":owner")) {
            q.bind("owner", filter.ownerId());
        }
        if (!adminWorkspaces.isEmpty()) {
            q.bindList("adminWorkspaces", adminWorkspaces);
        }
        return q;
    }
}
