package dev.parley.store.jdbc.internal;

import dev.parley.api.values.ConversationFilter;
import org.jdbi.v3.core.statement.Query;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The SQL of a conversation list, shaped so that one index serves it. Not API.
 *
 * <p>A whole organization is read by the organization index, an administered workspace by the workspace index,
 * a plain member's own conversations by the owner index, a repository by the repository index. Only the mixed
 * case (some administered workspaces plus own conversations elsewhere) needs an OR of two index ranges and a sort.
 *
 * <p>ORDER BY repeats the index's equality columns before the page order: H2 walks an index in order only when
 * the ORDER BY names its leading columns too.
 *
 * @param where the filter
 * @param orderBy the page order
 * @param filter the filter's values, to bind
 * @param adminWorkspaces the administered workspaces of the mixed case, to bind as a list
 */
public record ConversationQuerySql(String where, String orderBy, ConversationFilter filter, List<String> adminWorkspaces) {
    private static final String NEWEST_FIRST = "created_at DESC, id DESC";

    /** The SQL of the conversations {@code f} lets through. */
    public static ConversationQuerySql of(ConversationFilter f) {
        List<String> conditions = new ArrayList<>();
        conditions.add("organization_id = :org");
        conditions.add("deleted_at IS NULL");
        if (f.repositoryId() != null) {
            conditions.add("repository_id = :repo");
        }
        if (f.workspaceId() != null) {
            conditions.add("workspace_id = :ws");
        }
        Set<String> admin = f.adminWorkspaces();
        boolean seesAll = f.wholeOrganization() || (f.workspaceId() != null && admin.contains(f.workspaceId()));
        boolean ownOnly = !seesAll && (admin.isEmpty() || f.workspaceId() != null);
        List<String> adminList = List.of();
        if (ownOnly) {
            conditions.add("owner_id = :owner");
        } else if (!seesAll) {
            adminList = admin.stream().sorted().toList();
            conditions.add("(workspace_id IN (<adminWorkspaces>) OR owner_id = :owner)");
        }
        // The equality prefix of the index that serves the query, in index order; the mixed case without a
        // workspace or repository has none and sorts.
        String scope = f.repositoryId() != null ? "repository_id" : f.workspaceId() != null ? "workspace_id" : null;
        String prefix;
        if (!seesAll && !ownOnly && scope == null) {
            prefix = null;
        } else {
            prefix = "organization_id" + (scope == null ? "" : ", " + scope) + (ownOnly ? ", owner_id" : "")
                    + ", deleted_at";
        }
        String orderBy = prefix == null ? NEWEST_FIRST : prefix + ", " + NEWEST_FIRST;
        return new ConversationQuerySql(String.join(" AND ", conditions), orderBy, f, adminList);
    }

    /** Counts the conversations the filter lets through. */
    public String count() {
        return "SELECT COUNT(*) FROM parley_conversation WHERE " + where;
    }

    /** One page of them, newest first; binds :limit and :offset besides the filter. */
    public String page() {
        return "SELECT " + Rows.CONVERSATION_COLUMNS + " FROM parley_conversation WHERE " + where
                + " ORDER BY " + orderBy + " LIMIT :limit OFFSET :offset";
    }

    /** Binds the filter's values that {@link #count()} and {@link #page()} name. */
    public Query bind(Query q) {
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
