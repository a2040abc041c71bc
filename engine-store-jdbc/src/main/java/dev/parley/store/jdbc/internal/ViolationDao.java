package dev.parley.store.jdbc.internal;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The statements on policy violations: a turn's inserts and the pages of a conversation or a workspace. Not API.
 * Stateless.
 *
 * <p>Violations are written only in a turn's transaction ({@link TurnDao#commit}), and never changed. The pages
 * are ranges of {@code ix_parley_violation_conversation} and {@code ix_parley_violation_workspace}: each leads with
 * the columns the page compares for equality, then the page order (time, then id, both descending), and ORDER BY
 * repeats those equality columns so that H2 walks the index in order too. Deleted conversations' violations are
 * listed: they are compliance records. Every method runs on the caller's {@link Handle}.
 */
public final class ViolationDao {
    /** The columns of a violation, in {@link #INSERT}'s order. */
    static final String COLUMNS = "id, conversation_id, organization_id, workspace_id, message_id, rule_id, category, "
            + "action, phase, occurred_at, excerpt";
    /** A turn's violation, with positional parameters: it runs on the turn path, as a plain JDBC statement. */
    public static final String INSERT = "INSERT INTO parley_violation (" + COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /** The equality prefix of a conversation's page: ix_parley_violation_conversation. */
    private static final String OF_CONVERSATION = " FROM parley_violation WHERE organization_id = :org "
            + "AND workspace_id = :ws AND conversation_id = :c";
    /** The equality prefix of a workspace's page: ix_parley_violation_workspace. */
    private static final String OF_WORKSPACE = " FROM parley_violation WHERE organization_id = :org "
            + "AND workspace_id = :ws";
    /** A page of a conversation's violations, newest first, ties by id descending. */
    public static final String CONVERSATION_PAGE = "SELECT " + COLUMNS + OF_CONVERSATION
            + " ORDER BY organization_id, workspace_id, conversation_id, occurred_at DESC, id DESC"
            + " LIMIT :limit OFFSET :offset";
    /** How many violations a conversation has: the total of its pages. */
    public static final String CONVERSATION_COUNT = "SELECT COUNT(*)" + OF_CONVERSATION;
    /** A page of a workspace's violations, of every conversation, newest first, ties by id descending. */
    public static final String WORKSPACE_PAGE = "SELECT " + COLUMNS + OF_WORKSPACE
            + " ORDER BY organization_id, workspace_id, occurred_at DESC, id DESC LIMIT :limit OFFSET :offset";
    /** How many violations a workspace has: the total of its pages. */
    public static final String WORKSPACE_COUNT = "SELECT COUNT(*)" + OF_WORKSPACE;

    private static final RowMapper<Violation> VIOLATION = (rs, ctx) -> new Violation(
            rs.getString("id"),
            rs.getString("conversation_id"),
            rs.getString("organization_id"),
            rs.getString("workspace_id"),
            rs.getString("message_id"),
            rs.getString("rule_id"),
            rs.getString("category"),
            Rows.value(PolicyAction.class, rs.getString("action"), "action"),
            Rows.value(PolicyPhase.class, rs.getString("phase"), "phase"),
            instant(rs.getObject("occurred_at", OffsetDateTime.class)),
            rs.getString("excerpt"));

    private static Instant instant(OffsetDateTime t) {
        if (t == null) {
            throw new IllegalStateException("column occurred_at holds no value");
        }
        return t.toInstant();
    }

    /**
     * Stores a turn's violations in the caller's transaction: one plain JDBC statement, executed once per
     * violation; nothing at all (not even a prepared statement) when there are none, so an ordinary turn runs
     * no statement more. An id already stored fails with the database's unique violation.
     */
    public void insertAll(Handle h, List<Violation> violations) {
        if (violations.isEmpty()) {
            return;
        }
        try (PreparedStatement s = h.getConnection().prepareStatement(INSERT)) {
            for (Violation v : violations) {
                s.setString(1, v.id());
                s.setString(2, v.conversationId());
                s.setString(3, v.organizationId());
                s.setString(4, v.workspaceId());
                s.setString(5, v.messageId());
                s.setString(6, v.ruleId());
                s.setString(7, v.category());
                s.setString(8, v.action().name());
                s.setString(9, v.phase().name());
                s.setObject(10, Rows.utc(v.at()));
                s.setString(11, v.excerpt());
                s.executeUpdate();
            }
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /**
     * A page of the violations {@code query} names, newest first, with their total. Reads twice: the caller opens
     * one snapshot for both reads, so that the page and its total agree.
     */
    public Page<Violation> page(Handle h, ViolationQuery query, PageRequest page) {
        boolean one = query.conversationId() != null;
        long total = bind(h.createQuery(one ? CONVERSATION_COUNT : WORKSPACE_COUNT), query)
                .mapTo(Long.class)
                .one();
        if (total <= page.offset()) {
            return Page.of(List.of(), page, total);
        }
        List<Violation> items = bind(h.createQuery(one ? CONVERSATION_PAGE : WORKSPACE_PAGE), query)
                .bind("limit", page.size())
                .bind("offset", page.offset())
                .map(VIOLATION)
                .list();
        return Page.of(items, page, total);
    }

    /** Binds what {@code query} names: organization, workspace, and the conversation when it names one. */
    public static Query bind(Query q, ViolationQuery query) {
        q.bind("org", query.organizationId()).bind("ws", query.workspaceId());
        if (query.conversationId() != null) {
            q.bind("c", query.conversationId());
        }
        return q;
    }
}
