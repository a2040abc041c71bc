package dev.parley.store.jdbc;

import dev.parley.api.PageRequest;
import dev.parley.api.values.ConversationFilter;
import dev.parley.store.jdbc.internal.ConversationDao;
import dev.parley.store.jdbc.internal.ConversationQuerySql;
import dev.parley.store.jdbc.internal.CreditDao;
import dev.parley.store.jdbc.internal.Dialect;
import dev.parley.store.jdbc.internal.MessageDao;
import dev.parley.store.jdbc.internal.PolicyDao;
import dev.parley.store.jdbc.internal.RateLimitDao;
import dev.parley.store.jdbc.internal.UsageDao;
import dev.parley.api.usage.UsageQuery;
import dev.parley.store.jdbc.internal.StreamLockDao;
import dev.parley.store.jdbc.internal.SummaryDao;
import dev.parley.store.jdbc.internal.TurnDao;
import dev.parley.store.jdbc.internal.ViolationDao;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.statement.Query;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * EXPLAINs every query the store makes on a turn or a page, on 1,000,000 messages in one conversation and
 * 100,000 conversations in one workspace (beside 300,000 elsewhere), and 100,000 policy violations in that
 * workspace, half of them in the big conversation (beside 300,000 elsewhere), credits, a year of 200,000 usage
 * rows (days of a conversation, user and model) of one organization (beside 300,000 of others) and 100,000 rate-limit counters, and checks that an
 * index serves each. The plans are written to {@code target/query-plans-<database>.txt}.
 */
class QueryPlanTest {
    private static final int MESSAGES = 1_000_000;
    private static final int WORKSPACE_CONVERSATIONS = 100_000;
    private static final int OTHER_CONVERSATIONS = 300_000;
    /** Violations in the big conversation, and in as many other conversations of its workspace, one each. */
    private static final int CONVERSATION_VIOLATIONS = 50_000;
    /** Summaries of the big conversation (one per 40 messages), beside one each of as many other conversations. */
    private static final int BIG_SUMMARIES = 25_000;
    private static final int OTHER_SUMMARIES = 50_000;
    private static final int OTHER_VIOLATIONS = 300_000;
    /**
     * The statements PostgreSQL may serve by scanning the registry's table of a few pages (the cheaper plan there);
     * their plans without scans, checked too, use its key.
     */
    private static final Set<String> SMALL_TABLE_SCANS = Set.of("policy rules", "policy rule changed",
            "policy rule removed", "credit price", "credit prices", "credit price changed");
    /** Credit accounts of the big organization's users, beside those of other organizations. */
    private static final int ORGANIZATION_ACCOUNTS = 10_000;
    private static final int OTHER_ACCOUNTS = 90_000;
    /** Ledger entries of the big organization's account, beside those of other accounts. */
    private static final int ACCOUNT_ENTRIES = 200_000;
    private static final int OTHER_ENTRIES = 100_000;
    /**
     * Holds on the big organization's account, as many turns as might run on it at once (all but 11 of them lapsed
     * at the time asked about: a reserve deletes an account's lapsed holds, so few pile up), beside holds of other
     * accounts.
     */
    private static final int ACCOUNT_HOLDS = 1_000;
    private static final int OTHER_HOLDS = 100_000;
    /** Usage entries of the big organization, over a year, beside those of other organizations. */
    private static final int ORGANIZATION_USAGE = 200_000;
    private static final int OTHER_USAGE = 300_000;
    /** Rate-limit counters (one per key). */
    private static final int RATE_COUNTERS = 100_000;
    /** The usage reports' days: a month of the year of usage. */
    private static final java.time.LocalDate USAGE_FROM = java.time.LocalDate.parse("2025-06-01");
    private static final java.time.LocalDate USAGE_TO = java.time.LocalDate.parse("2025-06-30");
    /** The time the credit statements ask about. */
    private static final java.time.OffsetDateTime CREDIT_TIME = java.time.OffsetDateTime.parse("2026-01-01T00:16:30Z");

    @Test
    void everyHotQueryIsServedByAnIndexOnH2() throws Exception {
        String url = "jdbc:h2:mem:plans-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        try (JdbcConversationStore store = JdbcConversationStore.of(url, "sa", "")) {
            Jdbi jdbi = Jdbi.create(url, "sa", "");
            Map<String, String> plans = jdbi.withHandle(h -> {
                populate(h, "SYSTEM_RANGE(1, %d) r", "X", "DATEADD(SECOND, X, TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00+00')",
                        "DATEADD(DAY, MOD(X, 365), DATE '2025-01-01')", Dialect.H2);
                return explainAll(h, "EXPLAIN ", Dialect.H2);
            });
            write("h2", plans);
            plans.forEach((name, plan) -> assertThat(plan).as(name).doesNotContain("tableScan"));
            // "index sorted": H2 reads rows in index order and stops at the page's end instead of sorting them.
            assertThat(plans.get("history tail")).contains("PRIMARY_KEY", "/* index sorted */");
            assertThat(plans.get("history for context")).contains("PRIMARY_KEY", "/* index sorted */");
            assertThat(plans.get("conversation with streams")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?1 \\*/")
                    .containsPattern("PRIMARY_KEY_\\w+: CONVERSATION_ID = C.ID \\*/");
            assertThat(plans.get("messages page 25,000")).contains("PRIMARY_KEY", "/* index sorted */");
            assertThat(plans.get("conversation by id")).contains("PRIMARY_KEY");
            // The registry's version by its key, in the send's read and alone; its rules by their key.
            assertThat(plans.get("conversation with streams")).containsPattern("PRIMARY_KEY_\\w+: ID = 1 \\*/");
            assertThat(plans.get("policy version")).containsPattern("PRIMARY_KEY_\\w+: ID = 1 \\*/");
            assertThat(plans.get("policy version update")).containsPattern("PRIMARY_KEY_\\w+: ID = 1 \\*/");
            assertThat(plans.get("policy rules")).contains("PRIMARY_KEY", "/* index sorted */");
            assertThat(plans.get("policy rule changed")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?11 \\*/");
            assertThat(plans.get("policy rule removed")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?1 \\*/");
            // Both tables by their primary keys: the conversation by id, its lock by conversation id.
            assertThat(plans.get("stream status")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?1 \\*/")
                    .containsPattern("PRIMARY_KEY_\\w+: CONVERSATION_ID = C.ID \\*/");
            assertThat(plans.get("workspace page")).contains("IX_PARLEY_CONVERSATION_WORKSPACE", "/* index sorted */");
            assertThat(plans.get("workspace count")).contains("IX_PARLEY_CONVERSATION_WORKSPACE");
            assertThat(plans.get("owner page")).contains("IX_PARLEY_CONVERSATION_OWNER", "/* index sorted */");
            assertThat(plans.get("owner count")).contains("IX_PARLEY_CONVERSATION_OWNER");
            assertThat(plans.get("member in workspace page"))
                    .contains("IX_PARLEY_CONVERSATION_WORKSPACE_OWNER", "/* index sorted */");
            assertThat(plans.get("member in workspace count")).contains("IX_PARLEY_CONVERSATION_WORKSPACE_OWNER");
            assertThat(plans.get("organization page")).contains("IX_PARLEY_CONVERSATION_ORG", "/* index sorted */");
            assertThat(plans.get("claim state")).contains("PRIMARY_KEY");
            assertThat(plans.get("blocked claim settled")).contains("PRIMARY_KEY");
            assertThat(plans.get("conversation violations page"))
                    .contains("IX_PARLEY_VIOLATION_CONVERSATION", "/* index sorted */");
            assertThat(plans.get("conversation violations count")).contains("IX_PARLEY_VIOLATION_CONVERSATION");
            assertThat(plans.get("workspace violations page"))
                    .contains("IX_PARLEY_VIOLATION_WORKSPACE", "/* index sorted */");
            assertThat(plans.get("workspace violations count")).contains("IX_PARLEY_VIOLATION_WORKSPACE");
            // Credits: the organization's accounts in a send's first read, and every credit statement by a key.
            assertThat(plans.get("conversation with streams")).contains("UQ_PARLEY_CREDIT_ACCOUNT_OWNER");
            assertThat(plans.get("credit accounts of owners")).contains("UNION ALL")
                    .containsPattern("(?s)(UQ_PARLEY_CREDIT_ACCOUNT_OWNER.*){3}");
            assertThat(plans.get("credit account")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?2 \\*/")
                    .contains("IX_PARLEY_CREDIT_HOLD_ACCOUNT");
            assertThat(plans.get("credit account of owner")).contains("UQ_PARLEY_CREDIT_ACCOUNT_OWNER",
                    "IX_PARLEY_CREDIT_HOLD_ACCOUNT");
            assertThat(plans.get("credit account locked")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?1 \\*/");
            assertThat(plans.get("credit holds held")).contains("IX_PARLEY_CREDIT_HOLD_ACCOUNT: ACCOUNT_ID IN(");
            assertThat(plans.get("lapsed credit holds deleted")).contains("IX_PARLEY_CREDIT_HOLD_ACCOUNT: ACCOUNT_ID IN(");
            assertThat(plans.get("credit hold renewed")).contains("PRIMARY_KEY");
            assertThat(plans.get("credit hold released")).contains("PRIMARY_KEY");
            assertThat(plans.get("credit charged")).contains("PRIMARY_KEY");
            assertThat(plans.get("credit balance set")).contains("PRIMARY_KEY");
            // The count by the index H2 made for the ledger's foreign key, on account_id: a range all the same.
            assertThat(plans.get("credit ledger count")).contains("PRIMARY_KEY", "ACCOUNT_ID = A.ID");
            assertThat(plans.get("credit ledger page")).contains("IX_PARLEY_CREDIT_LEDGER_ACCOUNT", "/* index sorted */")
                    .doesNotContain("index sorted: ");
            assertThat(plans.get("credit price")).contains("PRIMARY_KEY");
            assertThat(plans.get("credit prices")).contains("PRIMARY_KEY", "/* index sorted */");
            assertThat(plans.get("credit price changed")).contains("PRIMARY_KEY");
            assertThat(plans.get("credits of a reply stored")).contains("PRIMARY_KEY");
            // Usage: a turn adds to its day's row by its key, and a new day's row reads the conversation by its key;
            // each report is one range of an index that leads with the organization and its filter, or of the primary
            // key for one conversation (the day range within it), never the organization's year.
            assertThat(plans.get("usage added to its day")).containsPattern(
                    "PRIMARY_KEY_\\w+: CONVERSATION_ID = \\?5\\s+AND \"DAY\" = \\?6\\s+AND USER_ID = \\?7\\s+AND MODEL = \\?8\\s+\\*/");
            assertThat(plans.get("usage of a new day stored")).containsPattern("PRIMARY_KEY_\\w+: ID = \\?8 \\*/");
            assertThat(plans.get("organization usage page")).contains("IX_PARLEY_USAGE_DAY: ");
            assertThat(plans.get("organization usage count")).contains("IX_PARLEY_USAGE_DAY: ");
            assertThat(plans.get("member usage page")).contains("IX_PARLEY_USAGE_USER: ");
            assertThat(plans.get("member usage count")).contains("IX_PARLEY_USAGE_USER: ");
            assertThat(plans.get("member in workspace usage page")).contains("IX_PARLEY_USAGE_USER: ");
            assertThat(plans.get("member in workspace usage count")).contains("IX_PARLEY_USAGE_USER: ");
            assertThat(plans.get("workspace usage page")).contains("IX_PARLEY_USAGE_WORKSPACE: ");
            assertThat(plans.get("workspace usage count")).contains("IX_PARLEY_USAGE_WORKSPACE: ");
            assertThat(plans.get("conversation usage page")).containsPattern("PRIMARY_KEY_\\w+: [^*]*CONVERSATION_ID = \\?2");
            assertThat(plans.get("conversation usage count")).containsPattern("PRIMARY_KEY_\\w+: [^*]*CONVERSATION_ID = \\?2");
            // Rate limits: every statement on a counter by its primary key.
            assertThat(plans.get("rate counter update")).containsPattern("PRIMARY_KEY_\\w+: COUNTER_KEY = \\?5 \\*/");
            assertThat(plans.get("rate counter tokens added")).containsPattern("PRIMARY_KEY_\\w+: COUNTER_KEY = \\?7 \\*/");
            assertThat(plans.get("rate counter inserted if absent")).containsPattern("PRIMARY_KEY_\\w+: COUNTER_KEY = \\?3 \\*/");
        }
    }

    @Test
    void everyHotQueryIsServedByAnIndexOnPostgres() throws Exception {
        String base = TestDatabases.postgresUrl();
        String db = "parley_plans";
        try (Connection c = DriverManager.getConnection(base)) {
            c.createStatement().execute("DROP DATABASE IF EXISTS " + db);
            c.createStatement().execute("CREATE DATABASE " + db);
        }
        String url = base.replaceFirst("/parley\\?", "/" + db + "?");
        try {
            try (JdbcConversationStore store = JdbcConversationStore.of(url, null, null)) {
                Jdbi jdbi = Jdbi.create(url);
                Map<String, String> plans = jdbi.withHandle(h -> {
                    populate(h, "generate_series(1, %d) AS r(x)", "x",
                            "TIMESTAMPTZ '2026-01-01 00:00:00+00' + x * INTERVAL '1 second'",
                            "DATE '2025-01-01' + MOD(x, 365)::integer", Dialect.POSTGRESQL);
                    h.execute("VACUUM ANALYZE parley_message");
                    h.execute("VACUUM ANALYZE parley_conversation");
                    h.execute("VACUUM ANALYZE parley_turn");
                    h.execute("VACUUM ANALYZE parley_violation");
                    h.execute("VACUUM ANALYZE parley_policy");
                    h.execute("VACUUM ANALYZE parley_credit_price");
                    h.execute("VACUUM ANALYZE parley_credit_account");
                    h.execute("VACUUM ANALYZE parley_credit_ledger");
                    h.execute("VACUUM ANALYZE parley_credit_hold");
                    h.execute("VACUUM ANALYZE parley_usage_day");
                    h.execute("VACUUM ANALYZE parley_rate_counter");
                    h.execute("VACUUM ANALYZE parley_summary");
                    h.execute("VACUUM ANALYZE parley_compaction");
                    Map<String, String> all = explainAll(h, "EXPLAIN ", Dialect.POSTGRESQL);
                    // The registry's table and the prices' are a few pages, which PostgreSQL rightly scans rather
                    // than use their keys; without scans their statements must be served by the keys all the same.
                    h.execute("SET enable_seqscan = off");
                    explainAll(h, "EXPLAIN ", Dialect.POSTGRESQL).forEach((name, plan) -> {
                        if (name.startsWith("policy rule") || name.startsWith("credit price")) {
                            all.put(name + " (no scans)", plan);
                        }
                    });
                    h.execute("RESET enable_seqscan");
                    return all;
                });
                write("postgresql", plans);
                plans.forEach((name, plan) -> {
                    if (!SMALL_TABLE_SCANS.contains(name)) {
                        assertThat(plan).as(name).doesNotContain("Seq Scan");
                    }
                });
                assertThat(plans.get("conversation with streams")).contains("pk_parley_policy_version");
                assertThat(plans.get("policy version")).contains("pk_parley_policy_version");
                assertThat(plans.get("policy version moved on")).contains("pk_parley_policy_version");
                assertThat(plans.get("policy rules (no scans)")).contains("Index Scan using pk_parley_policy")
                        .doesNotContain("Sort");
                assertThat(plans.get("policy rule changed (no scans)")).contains("Index Scan using pk_parley_policy");
                assertThat(plans.get("policy rule removed (no scans)")).contains("Index Scan using pk_parley_policy");
                assertThat(plans.get("history tail")).contains("Index Scan Backward using pk_parley_message")
                        .doesNotContain("Sort");
                assertThat(plans.get("history for context")).contains("Index Scan Backward using pk_parley_message")
                        .doesNotContain("Sort");
                assertThat(plans.get("conversation with streams")).contains("pk_parley_conversation", "pk_parley_stream_lock");
                assertThat(plans.get("messages page 25,000")).contains("Index Scan using pk_parley_message")
                        .doesNotContain("Sort");
                assertThat(plans.get("latest summary")).contains("uq_parley_summary_range").doesNotContain("Sort");
                assertThat(plans.get("summaries covered")).contains("uq_parley_summary_range");
                assertThat(plans.get("summary claim ended")).contains("pk_parley_compaction");
                assertThat(plans.get("summaries changed")).contains("pk_parley_conversation");
                assertThat(plans.get("conversation by id")).contains("pk_parley_conversation");
                assertThat(plans.get("stream status")).contains("pk_parley_conversation", "pk_parley_stream_lock");
                assertThat(plans.get("workspace page")).contains("ix_parley_conversation_workspace").doesNotContain("Sort");
                assertThat(plans.get("workspace count")).contains("Index Only Scan using ix_parley_conversation_workspace");
                assertThat(plans.get("owner page")).contains("ix_parley_conversation_owner").doesNotContain("Sort");
                assertThat(plans.get("member in workspace page")).contains("ix_parley_conversation_workspace_owner")
                        .doesNotContain("Sort");
                assertThat(plans.get("organization page")).contains("ix_parley_conversation_org").doesNotContain("Sort");
                assertThat(plans.get("organization count")).contains("Index Only Scan");
                assertThat(plans.get("claim state")).contains("pk_parley_turn");
                assertThat(plans.get("blocked claim settled")).contains("pk_parley_turn");
                assertThat(plans.get("conversation violations page")).contains("ix_parley_violation_conversation")
                        .doesNotContain("Sort");
                assertThat(plans.get("conversation violations count")).contains("Index Only Scan using ix_parley_violation_");
                assertThat(plans.get("workspace violations page")).contains("ix_parley_violation_workspace")
                        .doesNotContain("Sort");
                assertThat(plans.get("workspace violations count")).contains("Index Only Scan using ix_parley_violation_");
                assertThat(plans.get("conversation with streams")).contains("uq_parley_credit_account_owner");
                assertThat(plans.get("credit accounts of owners")).contains("uq_parley_credit_account_owner");
                assertThat(plans.get("credit account")).contains("pk_parley_credit_account",
                        "ix_parley_credit_hold_account");
                assertThat(plans.get("credit account of owner")).contains("uq_parley_credit_account_owner",
                        "ix_parley_credit_hold_account");
                assertThat(plans.get("credit account locked")).contains("LockRows", "pk_parley_credit_account");
                assertThat(plans.get("credit holds held")).contains("ix_parley_credit_hold_account");
                assertThat(plans.get("lapsed credit holds deleted")).contains("ix_parley_credit_hold_account");
                assertThat(plans.get("credit hold renewed")).contains("pk_parley_credit_hold");
                assertThat(plans.get("credit hold released")).contains("pk_parley_credit_hold");
                assertThat(plans.get("credit charged")).contains("pk_parley_credit_account");
                assertThat(plans.get("credit balance set")).contains("pk_parley_credit_account");
                assertThat(plans.get("credit ledger count")).contains("pk_parley_credit_account",
                        "Index Only Scan using ix_parley_credit_ledger_account");
                assertThat(plans.get("credit ledger page")).contains("ix_parley_credit_ledger_account")
                        .doesNotContain("Sort");
                assertThat(plans.get("credit price (no scans)")).contains("pk_parley_credit_price");
                assertThat(plans.get("credit prices (no scans)")).contains("Index Scan using pk_parley_credit_price")
                        .doesNotContain("Sort");
                assertThat(plans.get("credit price changed (no scans)")).contains("pk_parley_credit_price");
                assertThat(plans.get("credits of a reply stored")).contains("pk_parley_message");
                assertThat(plans.get("usage added to its day")).contains("pk_parley_usage_day");
                assertThat(plans.get("usage of a new day stored")).contains("pk_parley_conversation");
                assertThat(plans.get("organization usage page")).contains("ix_parley_usage_day");
                assertThat(plans.get("organization usage count")).contains("Index Only Scan using ix_parley_usage_");
                for (String report : List.of("member", "member in workspace")) {
                    assertThat(plans.get(report + " usage page")).as(report).contains("ix_parley_usage_user");
                    assertThat(plans.get(report + " usage count")).as(report).contains("ix_parley_usage_user");
                }
                assertThat(plans.get("workspace usage page")).contains("ix_parley_usage_workspace");
                assertThat(plans.get("workspace usage count")).contains("ix_parley_usage_workspace");
                assertThat(plans.get("conversation usage page")).contains("pk_parley_usage_day");
                assertThat(plans.get("conversation usage count")).contains("pk_parley_usage_day");
                assertThat(plans.get("rate counter admitted")).contains("Conflict Arbiter Indexes: pk_parley_rate_counter");
                assertThat(plans.get("rate counter tokens added")).contains("Conflict Arbiter Indexes: pk_parley_rate_counter");
            }
        } finally {
            try (Connection c = DriverManager.getConnection(base)) {
                c.createStatement().execute("DROP DATABASE IF EXISTS " + db);
            }
        }
    }

    /** One big conversation, one big workspace, and conversations elsewhere so that selectivity is realistic. */
    private static void populate(Handle h, String range, String x, String timeOfX, String dayOfX, Dialect dialect) {
        UnaryOperator<String> t = sql -> sql.replace("$X", x).replace("$T", timeOfX).replace("$D", dayOfX);
        h.execute(t.apply("INSERT INTO parley_conversation (id, organization_id, workspace_id, repository_id, owner_id, "
                + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at) "
                + "SELECT 'big', 'org-1', 'ws-big', NULL, 'alice', 0, 0, 0, " + MESSAGES + ", $T, $T FROM "
                + String.format(range, 1)));
        h.execute(t.apply("INSERT INTO parley_message (conversation_id, seq, id, role, body, tokens, model, user_tag, "
                + "source_tag, status, created_at, usage_in, usage_out) "
                + "SELECT 'big', $X, CONCAT('m', $X), CASE WHEN MOD($X, 2) = 1 THEN 'USER' ELSE 'ASSISTANT' END, "
                + "CONCAT('message number ', $X), 3, NULL, NULL, NULL, 'COMPLETE', $T, NULL, NULL FROM "
                + String.format(range, MESSAGES)));
        h.execute(t.apply("INSERT INTO parley_conversation (id, organization_id, workspace_id, repository_id, owner_id, "
                + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at) "
                + "SELECT CONCAT('w', $X), 'org-1', 'ws-big', NULL, CONCAT('user-', MOD($X, 1000)), 0, 0, 0, 0, $T, $T FROM "
                + String.format(range, WORKSPACE_CONVERSATIONS)));
        h.execute(t.apply("INSERT INTO parley_conversation (id, organization_id, workspace_id, repository_id, owner_id, "
                + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at) "
                + "SELECT CONCAT('o', $X), CONCAT('org-', MOD($X, 30) + 2), CONCAT('ws-', MOD($X, 300)), NULL, "
                + "CONCAT('user-', MOD($X, 5000)), 0, 0, 0, 0, $T, $T FROM " + String.format(range, OTHER_CONVERSATIONS)));
        String summary = "INSERT INTO parley_summary (id, conversation_id, from_seq, to_seq, body, tokens, model, "
                + "usage_in, usage_out, credits_metered, created_at) SELECT ";
        h.execute(t.apply(summary + "CONCAT('sb', $X), 'big', 1, 40 * $X, 'a summary', 9, 'model-1', 100, 10, FALSE, $T "
                + "FROM " + String.format(range, BIG_SUMMARIES)));
        h.execute(t.apply(summary + "CONCAT('so', $X), CONCAT('o', $X), 1, 2, 'a summary', 9, 'model-1', 100, 10, "
                + "FALSE, $T FROM " + String.format(range, OTHER_SUMMARIES)));
        h.execute(t.apply("INSERT INTO parley_compaction (conversation_id, claim_token, expires_at, retry_at, failures) "
                + "SELECT CONCAT('o', $X), NULL, NULL, NULL, 0 FROM " + String.format(range, OTHER_SUMMARIES)));
        // Every message id of the big conversation's prompts claimed and completed, some blocked.
        h.execute(t.apply("INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq, claimed_at, "
                + "block_rule_id, block_phase, block_fail_closed) SELECT 'big', CONCAT('m', 2 * $X - 1), "
                + "CASE WHEN MOD($X, 10) = 0 THEN 'BLOCKED' ELSE 'COMPLETE' END, 2 * $X, $T, NULL, NULL, NULL FROM "
                + String.format(range, 100_000)));
        String violation = "INSERT INTO parley_violation (id, conversation_id, organization_id, workspace_id, "
                + "message_id, rule_id, category, action, phase, occurred_at, excerpt) SELECT ";
        h.execute(t.apply(violation + "CONCAT('vb', $X), 'big', 'org-1', 'ws-big', CONCAT('m', $X), 'secrets', "
                + "'SECRET', 'BLOCK', 'PRE', $T, 'key [SECRET] here' FROM " + String.format(range, CONVERSATION_VIOLATIONS)));
        h.execute(t.apply(violation + "CONCAT('vw', $X), CONCAT('w', $X), 'org-1', 'ws-big', 'm1', 'pii', "
                + "'PII_EMAIL', 'LOG', 'POST', $T, 'mail [PII_EMAIL]' FROM " + String.format(range, CONVERSATION_VIOLATIONS)));
        h.execute(t.apply(violation + "CONCAT('vo', $X), CONCAT('o', $X), CONCAT('org-', MOD($X, 30) + 2), "
                + "CONCAT('ws-', MOD($X, 300)), 'm1', 'deny', 'DENY_LIST', 'REDACT', 'DURING', $T, '[DENY_LIST]' FROM "
                + String.format(range, OTHER_VIOLATIONS)));
        // A registry bigger than any real one: a hundred rules, of every kind of scope.
        h.execute(t.apply("INSERT INTO parley_policy (id, kind, parameters, action, phases, fail_mode, "
                + "time_budget_nanos, organization_id, workspace_id, repository_id, enabled, updated_at) SELECT "
                + "CONCAT('rule-', $X), 'deny-list', '5:words11:alpha,gamma', 'BLOCK', 'PRE,POST', 'OPEN', 2000000000, "
                + "CASE WHEN MOD($X, 4) = 0 THEN NULL ELSE 'org-1' END, CASE WHEN MOD($X, 4) = 2 THEN 'ws-big' END, "
                + "NULL, TRUE, $T FROM " + String.format(range, 100)));
        // Credits: prices of a hundred models; the big organization's accounts (its own, the big workspace's, and
        // its users') beside other organizations' users'; a long ledger and many holds on the organization's account.
        h.execute(t.apply("INSERT INTO parley_credit_price (model, per_thousand_input, per_thousand_output, "
                + "per_request, updated_at) SELECT CONCAT('model-', $X), 0.5, 1.5, 0, $T FROM " + String.format(range, 100)));
        String account = "INSERT INTO parley_credit_account (id, organization_id, owner_kind, owner_id, balance, "
                + "created_at) SELECT ";
        h.execute(t.apply(account + "'acct-org-1', 'org-1', 'ORGANIZATION', 'org-1', 1000000, $T FROM "
                + String.format(range, 1)));
        h.execute(t.apply(account + "'acct-ws-big', 'org-1', 'WORKSPACE', 'ws-big', 1000, $T FROM "
                + String.format(range, 1)));
        h.execute(t.apply(account + "CONCAT('acct-u', $X), 'org-1', 'USER', CONCAT('user-', $X), 100, $T FROM "
                + String.format(range, ORGANIZATION_ACCOUNTS)));
        h.execute(t.apply(account + "CONCAT('acct-o', $X), CONCAT('org-', MOD($X, 30) + 2), 'USER', "
                + "CONCAT('user-', $X), 5, $T FROM " + String.format(range, OTHER_ACCOUNTS)));
        String entry = "INSERT INTO parley_credit_ledger (id, account_id, kind, amount, balance_after, reason, at, "
                + "conversation_id, message_id, model, per_thousand_input, per_thousand_output, per_request, "
                + "tokens_in, tokens_out) SELECT ";
        h.execute(t.apply(entry + "CONCAT('le-b', $X), 'acct-org-1', 'CHARGE', -0.001, 1000000, 'turn', $T, 'big', "
                + "CONCAT('m', $X), 'model-1', 0.5, 1.5, 0, 10, 10 FROM " + String.format(range, ACCOUNT_ENTRIES)));
        h.execute(t.apply(entry + "CONCAT('le-o', $X), CONCAT('acct-u', MOD($X, " + ORGANIZATION_ACCOUNTS
                + ") + 1), 'TOP_UP', 1, 100, 'funds', $T, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0 FROM "
                + String.format(range, OTHER_ENTRIES)));
        String hold = "INSERT INTO parley_credit_hold (hold_id, account_id, amount, expires_at, conversation_id, "
                + "prompt_id) SELECT ";
        h.execute(t.apply(hold + "CONCAT('h', $X), 'acct-org-1', 0.5, $T, 'big', CONCAT('m', $X) FROM "
                + String.format(range, ACCOUNT_HOLDS)));
        h.execute(t.apply(hold + "CONCAT('ho', $X), CONCAT('acct-o', MOD($X, " + OTHER_ACCOUNTS
                + ") + 1), 0.5, $T, CONCAT('o', $X), 'm1' FROM " + String.format(range, OTHER_HOLDS)));
        // Usage: a year of the big organization's days of use, across its users, workspaces, conversations and
        // models (one row per conversation, day, user and model, every row's key distinct), beside other
        // organizations'; and the rate-limit counters of many callers.
        String usage = "INSERT INTO parley_usage_day (organization_id, workspace_id, conversation_id, user_id, model, "
                + dialect.day() + ", requests, prompt_tokens, tokens_in, tokens_out, credits) SELECT ";
        h.execute(t.apply(usage + "'org-1', CASE WHEN MOD($X, 5) = 0 THEN 'ws-big' ELSE CONCAT('ws-', MOD($X, 20)) END, "
                + "CONCAT('w', MOD($X, " + WORKSPACE_CONVERSATIONS + ")), CONCAT('user-', MOD($X, 1000)), "
                + "CONCAT('model-', MOD($X, 10)), $D, 3, 15, 150, 60, 0.000370368 FROM "
                + String.format(range, ORGANIZATION_USAGE)));
        h.execute(t.apply(usage + "CONCAT('org-', MOD($X, 30) + 2), CONCAT('ws-', MOD($X, 300)), CONCAT('o', $X), "
                + "CONCAT('user-', MOD($X, 5000)), 'model-1', $D, 2, 10, 100, 40, 0 FROM "
                + String.format(range, OTHER_USAGE)));
        h.execute(t.apply("INSERT INTO parley_rate_counter (counter_key, window_start, requests, tokens) SELECT "
                + "CONCAT('caller:org-1:user-', $X), TIMESTAMP '2026-01-01 00:16:00', 3, 100 FROM "
                + String.format(range, RATE_COUNTERS)));
    }

    /** The plan of each hot query, with the values a busy engine would bind. */
    private static Map<String, String> explainAll(Handle h, String explain, Dialect dialect) {
        Map<String, String> plans = new LinkedHashMap<>();
        plans.put("conversation by id", plan(h.createQuery(explain + ConversationDao.FIND_CONVERSATION)
                .bind("id", "big")));
        plans.put("stream status", plan(h.createQuery(explain + StreamLockDao.STREAM_STATUS)
                .bind("c", "big")));
        plans.put("history tail", plan(h.createQuery(explain + MessageDao.RECENT_MESSAGES)
                .bind("c", "big").bind("before", Long.MAX_VALUE).bind("limit", 32)));
        plans.put("conversation with streams", plan(h.createQuery(explain + ConversationDao.ROW_STATE_WITH_STREAMS)
                .bind(0, "big")));
        plans.put("history for context", plan(h.createQuery(explain + MessageDao.RECENT_HISTORY)
                .bind(0, "big").bind(1, Long.MAX_VALUE).bind(2, 27)));
        PageRequest deep = PageRequest.of(25_000, 20);
        plans.put("messages page 25,000", plan(h.createQuery(explain + MessageDao.MESSAGES_PAGE)
                .bind("c", "big").bind("from", deep.offset()).bind("to", deep.offset() + deep.size())));
        plans.put("message count", plan(h.createQuery(explain + MessageDao.MESSAGE_COUNT).bind("c", "big")));
        // Compaction: the context stage's summary read, and the claim and commit of a summary.
        plans.put("latest summary", plan(h.createQuery(explain + SummaryDao.LATEST).bind("c", "big")));
        plans.put("summaries covered", plan(h.createQuery(explain + SummaryDao.COVERED).bind("c", "big")));
        plans.put("summary claim ended", plan(h.createQuery(explain + SummaryDao.DONE).bind("c", "o7")
                .bind("token", "t")));
        plans.put("summaries changed", plan(h.createQuery(explain + SummaryDao.CHANGED).bind("c", "big")));
        Map<String, ConversationFilter> filters = new LinkedHashMap<>();
        filters.put("workspace", new ConversationFilter("org-1", false, Set.of("ws-big"), "admin", "ws-big", null));
        filters.put("owner", new ConversationFilter("org-1", false, Set.of(), "user-7", null, null));
        filters.put("member in workspace", new ConversationFilter("org-1", false, Set.of(), "user-7", "ws-big", null));
        filters.put("organization", new ConversationFilter("org-1", true, Set.of(), "admin", null, null));
        // Governance: a replay's claim state, a blocked turn's settlement, its violations, and violation pages.
        plans.put("claim state", plan(h.createQuery(explain + TurnDao.EXISTING_CLAIM)
                .bind("c", "big").bind("p", "m99")));
        plans.put("blocked claim settled", plan(h.createQuery(explain + TurnDao.BLOCK_CLAIM)
                .bind("rule", "secrets").bind("phase", "PRE").bind("failClosed", false)
                .bind("c", "big").bind("p", "m99").bind("token", "t")));
        plans.put("blocked id recorded", plan(h.createQuery(explain + TurnDao.INSERT_BLOCKED)
                .bind("c", "big").bind("p", "m-new").bind("at", java.time.OffsetDateTime.parse("2026-01-01T00:00:00Z"))
                .bind("fp", "fp").bind("rule", "secrets").bind("phase", "PRE").bind("failClosed", false)));
        plans.put("violation stored", plan(h.createQuery(explain + ViolationDao.INSERT)
                .bind(0, "v-new").bind(1, "big").bind(2, "org-1").bind(3, "ws-big").bind(4, "m1").bind(5, "secrets")
                .bind(6, "SECRET").bind(7, "BLOCK").bind(8, "PRE")
                .bind(9, java.time.OffsetDateTime.parse("2026-01-01T00:00:00Z")).bind(10, "[SECRET]")));
        dev.parley.api.policy.ViolationQuery ofBig = dev.parley.api.policy.ViolationQuery.conversation("org-1",
                "ws-big", "big");
        dev.parley.api.policy.ViolationQuery ofWorkspace = dev.parley.api.policy.ViolationQuery.workspace("org-1",
                "ws-big");
        plans.put("conversation violations page", plan(ViolationDao.bind(h.createQuery(explain
                + ViolationDao.CONVERSATION_PAGE), ofBig).bind("limit", 20).bind("offset", 0)));
        plans.put("conversation violations count", plan(ViolationDao.bind(h.createQuery(explain
                + ViolationDao.CONVERSATION_COUNT), ofBig)));
        plans.put("workspace violations page", plan(ViolationDao.bind(h.createQuery(explain
                + ViolationDao.WORKSPACE_PAGE), ofWorkspace).bind("limit", 20).bind("offset", 0)));
        plans.put("workspace violations count", plan(ViolationDao.bind(h.createQuery(explain
                + ViolationDao.WORKSPACE_COUNT), ofWorkspace)));
        // The policy registry: the version (read alone, and moved on by every change) and the rules.
        plans.put("policy version", plan(h.createQuery(explain + PolicyDao.VERSION)));
        plans.put("policy version moved on", plan(h.createQuery(explain + new PolicyDao(dialect).bumpVersion())));
        // H2 shows the plan of a FINAL TABLE's inner UPDATE only when it is EXPLAINed alone.
        plans.put("policy version update", plan(h.createQuery(explain + PolicyDao.BUMP)));
        plans.put("policy rules", plan(h.createQuery(explain + PolicyDao.ALL)));
        plans.put("policy rule changed", plan(h.createQuery(explain + PolicyDao.UPDATE).bind("id", "rule-7")
                .bind("kind", "deny-list").bind("parameters", "5:words3:abc").bind("action", "BLOCK")
                .bind("phases", "PRE").bind("failMode", "OPEN").bind("budget", 2_000_000_000L).bind("org", "org-1")
                .bind("ws", (String) null).bind("repo", (String) null).bind("enabled", true)));
        plans.put("policy rule added", plan(h.createQuery(explain + PolicyDao.INSERT).bind("id", "rule-new")
                .bind("kind", "deny-list").bind("parameters", "5:words3:abc").bind("action", "BLOCK")
                .bind("phases", "PRE").bind("failMode", "OPEN").bind("budget", 2_000_000_000L).bind("org", "org-1")
                .bind("ws", (String) null).bind("repo", (String) null).bind("enabled", true)));
        plans.put("policy rule removed", plan(h.createQuery(explain + PolicyDao.DELETE).bind("id", "rule-7")));
        // Credits: a turn's reserve and charge, the accounts' reads and changes, ledger pages and prices.
        plans.put("credit accounts of owners", plan(h.createQuery(explain + CreditDao.accountsOfOwners(3))
                .bind("org0", "org-1").bind("kind0", "ORGANIZATION").bind("owner0", "org-1")
                .bind("org1", "org-1").bind("kind1", "WORKSPACE").bind("owner1", "ws-big")
                .bind("org2", "org-1").bind("kind2", "USER").bind("owner2", "user-7")));
        plans.put("credit account", plan(h.createQuery(explain + CreditDao.ACCOUNT).bind("id", "acct-org-1")
                .bind("at", CREDIT_TIME)));
        plans.put("credit account of owner", plan(h.createQuery(explain + CreditDao.ACCOUNT_OF_OWNER)
                .bind("org", "org-1").bind("kind", "USER").bind("owner", "user-7").bind("at", CREDIT_TIME)));
        plans.put("credit account locked", plan(h.createQuery(explain + CreditDao.LOCK).bind("id", "acct-org-1")));
        List<String> accounts = List.of("acct-org-1", "acct-ws-big", "acct-u7");
        plans.put("credit accounts locked", plan(h.createQuery(explain + CreditDao.LOCK_ALL).bindList("ids", accounts)));
        plans.put("credit holds held", plan(h.createQuery(explain + CreditDao.HELD).bindList("ids", accounts)
                .bind("at", CREDIT_TIME)));
        plans.put("lapsed credit holds deleted", plan(h.createQuery(explain + CreditDao.DELETE_LAPSED)
                .bindList("ids", accounts).bind("at", CREDIT_TIME)));
        plans.put("credit hold renewed", plan(h.createQuery(explain + CreditDao.RENEW_HOLD).bind("id", "h995")
                .bind("expires", CREDIT_TIME.plusMinutes(1)).bind("at", CREDIT_TIME)));
        plans.put("credit hold released", plan(h.createQuery(explain + CreditDao.DELETE_HOLD).bind("id", "h995")));
        plans.put("credit charged", plan(h.createQuery(explain + CreditDao.DEBIT).bindList("ids", accounts)
                .bind("amount", new java.math.BigDecimal("0.001000000"))));
        plans.put("credit balance set", plan(h.createQuery(explain + CreditDao.SET_BALANCE)
                .bind("balance", new java.math.BigDecimal("10.000000000")).bind("id", "acct-org-1")));
        plans.put("credit account renewed", plan(h.createQuery(explain + CreditDao.RENEW)
                .bind("balance", new java.math.BigDecimal("10.000000000")).bind("spent", java.math.BigDecimal.ZERO)
                .bind("start", CREDIT_TIME).bind("end", CREDIT_TIME.plusMonths(1)).bind("id", "acct-org-1")));
        plans.put("credit account terms set", plan(h.createQuery(explain + CreditDao.SET_TERMS)
                .bind("period", "P1M from 2000-01-01 in Z").bind("renewal", "RESET")
                .bind("allowance", new java.math.BigDecimal("100.000000000"))
                .bind("limit", new java.math.BigDecimal("80.000000000")).bind("limitKind", "SOFT")
                .bind("spent", java.math.BigDecimal.ZERO).bind("start", CREDIT_TIME)
                .bind("end", CREDIT_TIME.plusMonths(1)).bind("id", "acct-org-1")));
        // Run only when a host sets an account's terms: a user's account (the organization's holds nearly every
        // charge of the data, which PostgreSQL rightly reads whole).
        plans.put("credit spent since", plan(h.createQuery(explain + CreditDao.SPENT_SINCE).bind("id", "acct-u7")
                .bind("since", CREDIT_TIME.minusDays(30))));
        plans.put("credit ledger count", plan(h.createQuery(explain + CreditDao.LEDGER_COUNT).bind("id", "acct-org-1")));
        plans.put("credit ledger entry by id", plan(h.createQuery(explain + CreditDao.ENTRY_BY_ID).bind("id", "le-7")));
        plans.put("credit ledger page", plan(h.createQuery(explain + new CreditDao(dialect).ledgerPage()).bind("id", "acct-org-1")
                .bind("limit", 20).bind("offset", 0)));
        plans.put("credit price", plan(h.createQuery(explain + CreditDao.PRICE).bind("model", "model-7")));
        plans.put("credit prices", plan(h.createQuery(explain + CreditDao.PRICES)));
        plans.put("credit price changed", plan(h.createQuery(explain + CreditDao.PRICE_UPDATE).bind("model", "model-7")
                .bind("in", new java.math.BigDecimal("0.5")).bind("out", new java.math.BigDecimal("1.5"))
                .bind("request", java.math.BigDecimal.ZERO).bind("at", CREDIT_TIME)));
        plans.put("credits of a reply stored", plan(h.createQuery(explain + MessageDao.SET_CREDITS)
                .bind("metered", true).bind("used", new java.math.BigDecimal("0.001000000"))
                .bind("remaining", new java.math.BigDecimal("9.999000000")).bind("account", "acct-org-1")
                .bind("c", "big").bind("seq", 2L)));
        // Usage: a turn's entry, and the reports of an organization admin, a member, a workspace admin and of one
        // conversation, each a page of groups and their count.
        UsageDao usage = new UsageDao(dialect);
        plans.put("usage added to its day", plan(h.createQuery(explain + usage.addStatement())
                .bind(0, 5L).bind(1, 50L).bind(2, 20L).bind(3, new java.math.BigDecimal("0.000123456"))
                .bind(4, "w7").bind(5, USAGE_FROM).bind(6, "user-7").bind(7, "model-7")));
        plans.put("usage of a new day stored", plan(h.createQuery(explain + usage.insertStatement())
                .bind(0, USAGE_FROM).bind(1, "user-7").bind(2, "model-1").bind(3, 5L).bind(4, 50L).bind(5, 20L)
                .bind(6, new java.math.BigDecimal("0.000123456")).bind(7, "big")));
        Map<String, UsageQuery> reports = new LinkedHashMap<>();
        reports.put("organization", UsageQuery.by(UsageQuery.GroupBy.WORKSPACE, USAGE_FROM, USAGE_TO));
        reports.put("member", UsageQuery.by(UsageQuery.GroupBy.CONVERSATION, USAGE_FROM, USAGE_TO).ofUser("user-7"));
        reports.put("member in workspace", UsageQuery.by(UsageQuery.GroupBy.MODEL, USAGE_FROM, USAGE_TO)
                .inWorkspace("ws-big").ofUser("user-7"));
        reports.put("workspace", UsageQuery.by(UsageQuery.GroupBy.USER, USAGE_FROM, USAGE_TO).inWorkspace("ws-big"));
        reports.put("conversation", UsageQuery.by(UsageQuery.GroupBy.MODEL, USAGE_FROM, USAGE_TO).inConversation("w7"));
        reports.forEach((name, q) -> {
            plans.put(name + " usage page", plan(UsageDao.bind(h.createQuery(explain + usage.page(q)), "org-1", q)
                    .bind("limit", 20).bind("offset", 0)));
            plans.put(name + " usage count", plan(UsageDao.bind(h.createQuery(explain + usage.count(q)), "org-1", q)));
        });
        // Rate limits: an admission and a stored turn's tokens on one key's counter (and on H2 the insert of a
        // missing counter before either, and the UPDATE inside the admission's FINAL TABLE, EXPLAINed alone).
        RateLimitDao rateLimits = new RateLimitDao(dialect);
        java.time.LocalDateTime window = java.time.LocalDateTime.parse("2026-01-01T00:16:00");
        plans.put("rate counter admitted", plan(h.createQuery(explain + rateLimits.admitStatement())
                .bind("key", "caller:org-1:user-7").bind("window", window).bind("requestLimit", 10L)
                .bind("tokenLimit", Long.MAX_VALUE)));
        plans.put("rate counter tokens added", plan(h.createQuery(explain + rateLimits.addTokensStatement())
                .bind("key", "caller:org-1:user-7").bind("window", window).bind("tokens", 70L)));
        if (dialect == Dialect.H2) {
            plans.put("rate counter update", plan(h.createQuery(explain + RateLimitDao.ADMIT_UPDATE)
                    .bind("key", "caller:org-1:user-7").bind("window", window).bind("requestLimit", 10L)
                    .bind("tokenLimit", Long.MAX_VALUE)));
            plans.put("rate counter inserted if absent", plan(h.createQuery(explain + RateLimitDao.INSERT_IF_ABSENT)
                    .bind("key", "caller:org-1:user-new").bind("window", window)));
        }
        filters.forEach((name, filter) -> {
            ConversationQuerySql sql = ConversationQuerySql.of(filter);
            plans.put(name + " page", plan(sql.bind(h.createQuery(explain + sql.page()))
                    .bind("limit", 20).bind("offset", 0)));
            plans.put(name + " count", plan(sql.bind(h.createQuery(explain + sql.count()))));
        });
        return plans;
    }

    private static String plan(Query q) {
        return q.mapTo(String.class).list().stream().collect(Collectors.joining("\n"));
    }

    private static void write(String database, Map<String, String> plans) throws IOException {
        StringBuilder out = new StringBuilder();
        plans.forEach((name, plan) -> out.append("## ").append(name).append("\n\n").append(plan).append("\n\n"));
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target", "query-plans-" + database + ".txt"), out);
    }
}
