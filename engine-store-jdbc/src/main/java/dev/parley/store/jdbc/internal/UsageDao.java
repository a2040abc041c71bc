package dev.parley.store.jdbc.internal;

import dev.parley.api.Credits;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Usage;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.jspecify.annotations.Nullable;

import java.math.BigDecimal;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The statements of the usage ledger ({@code parley_usage_day}, since V11): a turn's usage, added in its commit
 * to the row of its conversation, day (UTC), user and model, and the reports. Not API. Thread safe (immutable).
 *
 * <p>A turn adds to its day's row in place, one {@code UPDATE} by the primary key that writes no index (the
 * row's keys do not change); the first turn of a day makes the row, reading the conversation's organization and
 * workspace itself. The commit has locked the conversation's row before (its totals' update), so two turns of a
 * conversation never race to make one row; turns of different conversations never share one.
 *
 * <p>A report is the organization's rows of a range of days, narrowed by its filters, summed per day and key
 * ({@code GROUP BY}, requests summed as they were counted) and ordered newest day first, then by key in the
 * database's order of strings; the page is a LIMIT and OFFSET of the groups, its total the count of the groups,
 * both read by the caller on one snapshot. The rows are one range of the index that leads with the organization
 * and the most telling filter (user or workspace: see the V9 and V11 migrations), or of the primary key for one
 * conversation, the day range within it; the groups of that range are summed and sorted, never the
 * organization's whole ledger. Every method runs on the caller's {@link Handle}.
 */
public final class UsageDao {
    /** The column each grouping sums per, beside the day. */
    private static String keyColumn(UsageQuery.GroupBy by) {
        return switch (by) {
            case CONVERSATION -> "conversation_id";
            case USER -> "user_id";
            case WORKSPACE -> "workspace_id";
            case MODEL -> "model";
        };
    }

    private final String day;
    /**
     * A turn added to its day's row, with positional parameters (it runs on the turn path, as a plain JDBC
     * statement): prompt tokens, tokens in, tokens out, credits; then the row's conversation, day, user, model.
     */
    private final String add;
    /**
     * The day's row made by its first turn: user, model, day, prompt tokens, tokens in, tokens out, credits,
     * conversation; the organization and workspace read from the conversation's row, which the commit has locked.
     */
    private final String insert;

    public UsageDao(Dialect dialect) {
        this.day = dialect.day();
        this.add = "UPDATE parley_usage_day SET requests = requests + 1, prompt_tokens = prompt_tokens + ?, "
                + "tokens_in = tokens_in + ?, tokens_out = tokens_out + ?, credits = credits + ? "
                + "WHERE conversation_id = ? AND " + day + " = ? AND user_id = ? AND model = ?";
        this.insert = "INSERT INTO parley_usage_day (conversation_id, " + day + ", user_id, model, organization_id, "
                + "workspace_id, requests, prompt_tokens, tokens_in, tokens_out, credits) SELECT id, "
                + "CAST(? AS DATE), CAST(? AS VARCHAR(128)), CAST(? AS VARCHAR(256)), organization_id, workspace_id, 1, "
                + "CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS NUMERIC(30, 9)) "
                + "FROM parley_conversation WHERE id = ?";
    }

    /** The statement that adds a turn to its day's row, as this database spells it. */
    public String addStatement() {
        return add;
    }

    /** The statement that makes a day's row with its first turn, as this database spells it. */
    public String insertStatement() {
        return insert;
    }

    /**
     * Records a settled turn (stored or blocked), in its commit's transaction: one statement when its day's row exists, two for the
     * day's first turn.
     *
     * @param charged what the commit charged: its {@link Credits#used()} is added to the row's credits
     */
    public void record(Handle h, String conversationId, UsageEntry meter, Instant at, Usage usage, Credits charged) {
        Date utcDay = Date.valueOf(LocalDate.ofInstant(at, ZoneOffset.UTC));
        try {
            int added;
            try (PreparedStatement s = h.getConnection().prepareStatement(add)) {
                s.setLong(1, meter.promptTokens());
                s.setLong(2, usage.tokensIn());
                s.setLong(3, usage.tokensOut());
                s.setBigDecimal(4, charged.used());
                s.setString(5, conversationId);
                s.setDate(6, utcDay);
                s.setString(7, meter.userId());
                s.setString(8, meter.model());
                added = s.executeUpdate();
            }
            if (added == 0) {
                try (PreparedStatement s = h.getConnection().prepareStatement(insert)) {
                    s.setDate(1, utcDay);
                    s.setString(2, meter.userId());
                    s.setString(3, meter.model());
                    s.setLong(4, meter.promptTokens());
                    s.setLong(5, usage.tokensIn());
                    s.setLong(6, usage.tokensOut());
                    s.setBigDecimal(7, charged.used());
                    s.setString(8, conversationId);
                    s.executeUpdate();
                }
            }
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /** What a report reads: the organization's entries of the days, narrowed by the query's filters. */
    public String where(UsageQuery q) {
        StringBuilder sql = new StringBuilder(" FROM parley_usage_day WHERE organization_id = :org");
        if (q.workspaceId() != null) {
            sql.append(" AND workspace_id = :ws");
        }
        if (q.userId() != null) {
            sql.append(" AND user_id = :user");
        }
        if (q.conversationId() != null) {
            sql.append(" AND conversation_id = :c");
        }
        if (q.model() != null) {
            sql.append(" AND model = :model");
        }
        return sql.append(" AND ").append(day).append(" >= :from AND ").append(day).append(" <= :to").toString();
    }

    /** A page of a report's groups: newest day first, then by key. */
    public String page(UsageQuery q) {
        String key = keyColumn(q.groupBy());
        return "SELECT " + day + " AS usage_day, " + key + " AS usage_key, SUM(requests) AS requests, "
                + "SUM(prompt_tokens) AS prompt_tokens, SUM(tokens_in) AS tokens_in, SUM(tokens_out) AS tokens_out, "
                + "SUM(credits) AS credits" + where(q) + " GROUP BY " + day + ", " + key + " ORDER BY " + day
                + " DESC, " + key + " LIMIT :limit OFFSET :offset";
    }

    /** How many groups a report has: the total of its pages. */
    public String count(UsageQuery q) {
        return "SELECT COUNT(*) FROM (SELECT 1 AS one" + where(q) + " GROUP BY " + day + ", "
                + keyColumn(q.groupBy()) + ") usage_groups";
    }

    /** Binds the organization and the query's filters to a statement of {@link #page} or {@link #count}. */
    public static Query bind(Query query, String organizationId, UsageQuery q) {
        query.bind("org", organizationId).bind("from", q.from()).bind("to", q.to());
        bindIfSet(query, "ws", q.workspaceId());
        bindIfSet(query, "user", q.userId());
        bindIfSet(query, "c", q.conversationId());
        bindIfSet(query, "model", q.model());
        return query;
    }

    private static void bindIfSet(Query query, String name, @Nullable String value) {
        if (value != null) {
            query.bind(name, value);
        }
    }

    /**
     * A page of an organization's report, with its total. Reads twice: the caller opens one snapshot for both
     * reads.
     */
    public Page<UsageRow> usage(Handle h, String organizationId, UsageQuery q, PageRequest page) {
        long total = bind(h.createQuery(count(q)), organizationId, q).mapTo(Long.class).one();
        if (total <= page.offset()) {
            return Page.of(List.of(), page, total);
        }
        List<UsageRow> rows = new ArrayList<>(page.size());
        bind(h.createQuery(page(q)), organizationId, q)
                .bind("limit", page.size())
                .bind("offset", page.offset())
                .map((rs, ctx) -> {
                    LocalDate d = rs.getObject("usage_day", LocalDate.class);
                    String key = rs.getString("usage_key");
                    if (d == null || key == null) {
                        throw new IllegalStateException("a usage entry holds no day or no key");
                    }
                    BigDecimal credits = rs.getBigDecimal("credits");
                    return new UsageRow(d, key, rs.getLong("requests"), rs.getLong("prompt_tokens"),
                            rs.getLong("tokens_in"), rs.getLong("tokens_out"),
                            credits == null ? BigDecimal.ZERO : credits);
                })
                .forEach(rows::add);
        return Page.of(rows, page, total);
    }
}
