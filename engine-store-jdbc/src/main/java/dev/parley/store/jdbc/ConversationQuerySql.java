package dev.parley.store.jdbc;

import dev.parley.api.spi.ConversationFilter;
import dev.parley.store.jdbc.internal.Rows;
import org.jdbi.v3.core.statement.Query;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The SQL of a conversation list, shaped so that one index serves it: a whole organization by the organization
 * index, an administered workspace by the workspace index, a plain member's own conversations by the owner
 * index, a repository by the repository index. Only the mixed case (some administered workspaces plus own
 * conversations elsewhere) needs an OR of two index ranges and a sort.
 *
 * <p>ORDER BY repeats the index's equality columns before the page order: H2 walks an index in order only when
 * the ORDER BY names its leading columns too.
 *
 * @param where the filter
 * @param orderBy the page order
 * @param filter the filter's values, to bind
 * @param adminWorkspaces the administered workspaces of the mixed case, to bind as a list
 */
record ConversationQuerySql(String where, String orderBy, ConversationFilter filter, List<String> adminWorkspaces) {
    private static final String NEWEST_FIRST = "created_at DESC, id DESC";

    static ConversationQuerySql of(ConversationFilter f) {
        List<String> conditions = new ArrayList<>();
        conditions.add("organization_id = :org");
        conditions.add("deleted_at IS NULL");
        // The equality prefix of the index that serves the query, in index order.
        String prefix = "organization_id, deleted_at";
        if (f.repositoryId() != null) {
            conditions.add("repository_id = :repo");
            prefix = "organization_id, repository_id, deleted_at";
        }
        if (f.workspaceId() != null) {
            conditions.add("workspace_id = :ws");
            if (f.repositoryId() == null) {
                prefix = "organization_id, workspace_id, deleted_at";
            }
        }
        Set<String> admin = f.adminWorkspaces();
        List<String> adminList = List.of();
        if (f.wholeOrganization() || (f.workspaceId() != null && admin.contains(f.workspaceId()))) {
            // every conversation in scope is visible
        } else if (admin.isEmpty() || f.workspaceId() != null) {
            conditions.add("owner_id = :owner");
            if (f.repositoryId() == null && f.workspaceId() == null) {
                prefix = "organization_id, owner_id, deleted_at";
            }
        } else {
            adminList = admin.stream().sorted().toList();
            conditions.add("(workspace_id IN (<adminWorkspaces>) OR owner_id = :owner)");
            prefix = null;
        }
        String orderBy = prefix == null ? NEWEST_FIRST : prefix + ", " + NEWEST_FIRST;
        return new ConversationQuerySql(String.join(" AND ", conditions), orderBy, f, adminList);
    }

    /** Counts the conversations the filter lets through. */
    String count() {
        return "SELECT COUNT(*) FROM parley_conversation WHERE " + where;
    }

    /** One page of them, newest first; binds :limit and :offset besides the filter. */
    String page() {
        return "SELECT " + Rows.CONVERSATION_COLUMNS + " FROM parley_conversation WHERE " + where
                + " ORDER BY " + orderBy + " LIMIT :limit OFFSET :offset";
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
