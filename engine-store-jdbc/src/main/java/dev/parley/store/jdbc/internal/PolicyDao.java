package dev.parley.store.jdbc.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.FailMode;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyScope;
import dev.parley.api.policy.PolicySpec;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.Update;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The statements of the policy registry: the rules in {@code parley_policy} and the registry's version in the one
 * row of {@code parley_policy_version}. Not API. Thread safe (immutable).
 *
 * <p>Every change takes the version row's lock first, with the statement that moves the version on and returns it
 * ({@link #BUMP_VERSION}), and then changes the rules in the same transaction: changes from every engine on the
 * database are one after another, each returns a distinct version, and a rule is written by one change at a time,
 * so that "update, else insert" needs neither a database's upsert nor a retry. Every method runs on the caller's
 * {@link Handle}; the changes in the caller's transaction.
 */
public final class PolicyDao {
    /** The columns of a rule, in {@link #INSERT}'s order. */
    static final String COLUMNS = "id, kind, parameters, action, phases, fail_mode, time_budget_nanos, "
            + "organization_id, workspace_id, repository_id, enabled, updated_at";
    /** The registry's version: primary key. */
    public static final String VERSION = "SELECT version FROM parley_policy_version WHERE id = 1";
    /** The version moved on; {@link Dialect#updateReturning} makes it return the new one. */
    public static final String BUMP = "UPDATE parley_policy_version SET version = version + 1 WHERE id = 1";
    /** Every rule, by id: the registry is small and read whole, only when its version moved. */
    public static final String ALL = "SELECT " + COLUMNS + " FROM parley_policy ORDER BY id";
    /** A rule's new values, by its primary key; no row when the id is new. */
    public static final String UPDATE = "UPDATE parley_policy SET kind = :kind, parameters = :parameters, "
            + "action = :action, phases = :phases, fail_mode = :failMode, time_budget_nanos = :budget, "
            + "organization_id = :org, workspace_id = :ws, repository_id = :repo, enabled = :enabled, "
            + "updated_at = " + Dialect.NOW + " WHERE id = :id";
    /** A new rule. */
    public static final String INSERT = "INSERT INTO parley_policy (" + COLUMNS + ") VALUES (:id, :kind, "
            + ":parameters, :action, :phases, :failMode, :budget, :org, :ws, :repo, :enabled, " + Dialect.NOW + ")";
    /** Removes a rule by its primary key. */
    public static final String DELETE = "DELETE FROM parley_policy WHERE id = :id";

    private static final RowMapper<PolicySpec> SPEC = (rs, ctx) -> spec(rs.getString("id"), rs.getString("kind"),
            rs.getString("parameters"), rs.getString("action"), rs.getString("phases"), rs.getString("fail_mode"),
            rs.getLong("time_budget_nanos"), rs.getString("organization_id"), rs.getString("workspace_id"),
            rs.getString("repository_id"), rs.getBoolean("enabled"));

    private final String bumpVersion;

    public PolicyDao(Dialect dialect) {
        this.bumpVersion = dialect.updateReturning(BUMP, "version");
    }

    /** The statement that moves the version on and returns the new one, as this database spells it. */
    public String bumpVersion() {
        return bumpVersion;
    }

    /** The registry's version. */
    public long version(Handle h) {
        return h.createQuery(VERSION).mapTo(Long.class).findOne()
                .orElseThrow(() -> new IllegalStateException("table parley_policy_version has no row"));
    }

    /** Every rule, by id (in Java's order of ids, whatever the database's collation). */
    public List<PolicySpec> all(Handle h) {
        List<PolicySpec> specs = new ArrayList<>(h.createQuery(ALL).map(SPEC).list());
        specs.sort(Comparator.comparing(PolicySpec::id));
        return List.copyOf(specs);
    }

    /** Adds or replaces the rule with its id, in the caller's transaction; the registry's new version. */
    public long put(Handle h, PolicySpec spec) {
        long version = bump(h);
        if (bind(h.createUpdate(UPDATE), spec).execute() == 0) {
            bind(h.createUpdate(INSERT), spec).execute();
        }
        return version;
    }

    /**
     * Removes the rule in the caller's transaction, moving the version on only when there was one: the version
     * first, for its lock (taken in the same order as by {@link #put}, so that no two changes wait on each other),
     * and the transaction rolled back when there was no such rule.
     */
    public boolean remove(Handle h, String id) {
        bump(h);
        if (h.createUpdate(DELETE).bind("id", id).execute() == 0) {
            h.rollback();
            return false;
        }
        return true;
    }

    private long bump(Handle h) {
        return h.createQuery(bumpVersion).mapTo(Long.class).findOne()
                .orElseThrow(() -> new IllegalStateException("table parley_policy_version has no row"));
    }

    private static Update bind(Update u, PolicySpec spec) {
        PolicyScope scope = spec.scope();
        return u.bind("id", spec.id())
                .bind("kind", spec.kind())
                .bind("parameters", parameters(spec.parameters()))
                .bind("action", spec.action().name())
                .bind("phases", spec.phases().stream().map(Enum::name).collect(Collectors.joining(",")))
                .bind("failMode", spec.failMode().name())
                .bind("budget", spec.timeBudget().toNanos())
                .bind("org", scope.organizationId())
                .bind("ws", scope.workspaceId())
                .bind("repo", scope.repositoryId())
                .bind("enabled", spec.enabled());
    }

    /** Parameters as one column: {@code <length>:<name><length>:<value>} pairs in their order; empty for none. */
    static String parameters(Map<String, String> parameters) {
        StringBuilder out = new StringBuilder();
        parameters.forEach((name, value) -> out.append(name.length()).append(':').append(name)
                .append(value.length()).append(':').append(value));
        return out.toString();
    }

    /** The parameters {@link #parameters(Map)} wrote, in their order, into {@code b}. */
    private static void parameters(String column, PolicySpec.Builder b) {
        int[] at = {0};
        while (at[0] < column.length()) {
            String name = next(column, at);
            if (at[0] >= column.length()) {
                throw unreadable("parameters");
            }
            b.parameter(name, next(column, at));
        }
    }

    /** The string at {@code at[0]}, which is moved past it. */
    private static String next(String column, int[] at) {
        int colon = column.indexOf(':', at[0]);
        if (colon <= at[0] || colon - at[0] > 6) {
            throw unreadable("parameters");
        }
        int length;
        try {
            length = Integer.parseInt(column, at[0], colon, 10);
        } catch (NumberFormatException e) {
            throw unreadable("parameters");
        }
        if (length < 0 || length > column.length() - colon - 1) {
            throw unreadable("parameters");
        }
        at[0] = colon + 1 + length;
        return column.substring(colon + 1, at[0]);
    }

    /** The spec a row holds; a value this version cannot read is an error naming its column, never its value. */
    static PolicySpec spec(String id, String kind, String parameters, String action, String phases, String failMode,
                           long budgetNanos, String org, String ws, String repo, boolean enabled) {
        PolicySpec.Builder b;
        try {
            b = PolicySpec.builder(id, kind);
        } catch (InvalidRequestException e) {
            throw unreadable(e.field());
        }
        b.action(Rows.value(PolicyAction.class, action, "action"));
        if (phases == null || phases.isEmpty()) {
            throw unreadable("phases");
        }
        String[] names = phases.split(",", -1);
        PolicyPhase[] parsed = new PolicyPhase[names.length];
        for (int i = 0; i < names.length; i++) {
            parsed[i] = Rows.value(PolicyPhase.class, names[i], "phases");
        }
        b.phases(parsed);
        b.failMode(Rows.value(FailMode.class, failMode, "fail_mode"));
        try {
            if (parameters == null) {
                throw unreadable("parameters");
            }
            parameters(parameters, b);
            b.timeBudget(Duration.ofNanos(budgetNanos));
            b.scope(new PolicyScope(org, ws, repo));
        } catch (InvalidRequestException e) {
            throw unreadable(e.field());
        }
        return b.enabled(enabled).build();
    }

    private static IllegalStateException unreadable(String field) {
        return new IllegalStateException("a policy rule's " + field + " cannot be read back");
    }
}
