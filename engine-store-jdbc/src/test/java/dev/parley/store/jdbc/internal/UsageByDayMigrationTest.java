package dev.parley.store.jdbc.internal;

import dev.parley.api.PageRequest;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.store.jdbc.JdbcConversationStore;
import dev.parley.store.jdbc.TestDatabases;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Statement;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A database made when the usage ledger held one entry per turn upgrades in place (V11): the entries of a
 * conversation, day, user and model become one row that sums them, so every report reads as it read before, and
 * the next turn adds to the row. On H2 and on PostgreSQL, each in a database of its own.
 */
class UsageByDayMigrationTest {
    private static final LocalDate DAY_1 = LocalDate.parse("2026-03-01");
    private static final LocalDate DAY_2 = LocalDate.parse("2026-03-02");

    @Test
    void perTurnEntriesOnH2BecomeOneRowPerConversationDayUserAndModel() {
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL("jdbc:h2:mem:usage-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
        upgradeAndCheck(ds, Dialect.H2);
    }

    @Test
    void perTurnEntriesOnPostgresBecomeOneRowPerConversationDayUserAndModel() throws Exception {
        String url = TestDatabases.postgresUrl();
        String schema = "usage_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = java.sql.DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        try {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setUrl(url);
            ds.setCurrentSchema(schema);
            upgradeAndCheck(ds, Dialect.POSTGRESQL);
        } finally {
            try (Connection c = java.sql.DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }
    }

    private static void upgradeAndCheck(DataSource ds, Dialect dialect) {
        Flyway.configure().dataSource(ds).locations(Migrations.LOCATION).table(Migrations.HISTORY_TABLE)
                .placeholders(Map.of("day", dialect.day())).target("10").load().migrate();
        Jdbi jdbi = Jdbi.create(ds);
        jdbi.useHandle(h -> {
            String conversation = "INSERT INTO parley_conversation (id, organization_id, workspace_id, owner_id, "
                    + "settings_version, tokens_in, tokens_out, message_count, created_at, updated_at) VALUES "
                    + "(?, 'org', ?, 'alice', 0, 0, 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)";
            h.execute(conversation, "c1", "ws-a");
            h.execute(conversation, "c2", "ws-b");
            String entry = "INSERT INTO parley_usage (organization_id, workspace_id, conversation_id, user_id, model, "
                    + dialect.day() + ", at, prompt_tokens, tokens_in, tokens_out, credits) VALUES "
                    + "('org', ?, ?, ?, ?, ?, CURRENT_TIMESTAMP, ?, ?, ?, ?)";
            // Three turns of one conversation, day, user and model; one of another user, of another model, of
            // another day; and one of another conversation.
            h.execute(entry, "ws-a", "c1", "alice", "m", DAY_1, 1, 10, 20, new BigDecimal("0.000000001"));
            h.execute(entry, "ws-a", "c1", "alice", "m", DAY_1, 2, 11, 21, new BigDecimal("0.5"));
            h.execute(entry, "ws-a", "c1", "alice", "m", DAY_1, 3, 12, 22, new BigDecimal("1.25"));
            h.execute(entry, "ws-a", "c1", "bob", "m", DAY_1, 4, 13, 23, BigDecimal.ZERO);
            h.execute(entry, "ws-a", "c1", "alice", "other", DAY_1, 5, 14, 24, BigDecimal.ONE);
            h.execute(entry, "ws-a", "c1", "alice", "m", DAY_2, 6, 15, 25, BigDecimal.ONE);
            h.execute(entry, "ws-b", "c2", "alice", "m", DAY_1, 7, 16, 26, BigDecimal.TEN);
        });

        try (JdbcConversationStore store = JdbcConversationStore.builder().dataSource(ds).build()) {
            long rows = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM parley_usage_day")
                    .mapTo(Long.class).one());
            assertThat(rows).as("one row per conversation, day, user and model").isEqualTo(5);

            List<UsageRow> byUser = store.usage("org", UsageQuery.by(UsageQuery.GroupBy.USER, DAY_1, DAY_2)
                    .inConversation("c1"), PageRequest.of(1, 20)).items();
            assertThat(byUser).extracting(UsageRow::day, UsageRow::key, UsageRow::requests, UsageRow::promptTokens,
                            UsageRow::tokensIn, UsageRow::tokensOut)
                    .containsExactly(
                            org.assertj.core.groups.Tuple.tuple(DAY_2, "alice", 1L, 6L, 15L, 25L),
                            org.assertj.core.groups.Tuple.tuple(DAY_1, "alice", 4L, 11L, 47L, 87L),
                            org.assertj.core.groups.Tuple.tuple(DAY_1, "bob", 1L, 4L, 13L, 23L));
            assertThat(byUser.get(1).credits()).isEqualByComparingTo("2.750000001");

            List<UsageRow> byWorkspace = store.usage("org", UsageQuery.by(UsageQuery.GroupBy.WORKSPACE, DAY_1,
                    DAY_1), PageRequest.of(1, 20)).items();
            assertThat(byWorkspace).extracting(UsageRow::key, UsageRow::requests)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("ws-a", 5L),
                            org.assertj.core.groups.Tuple.tuple("ws-b", 1L));
            assertThat(byWorkspace.get(1).credits()).isEqualByComparingTo("10");

            // The next turn of that conversation, day, user and model adds to the migrated row.
            java.time.Instant at = DAY_2.atTime(12, 0).toInstant(java.time.ZoneOffset.UTC);
            dev.parley.api.Message prompt = new dev.parley.api.Message("p-new", "c1", 0, dev.parley.api.Role.USER,
                    "hi", 1, null, null, null, dev.parley.api.MessageStatus.COMPLETE, at, null);
            dev.parley.api.Usage usage = new dev.parley.api.Usage(100, 200);
            dev.parley.api.Message reply = new dev.parley.api.Message("r-new", "c1", 0,
                    dev.parley.api.Role.ASSISTANT, "hello", 1, "m", null, null, dev.parley.api.MessageStatus.COMPLETE,
                    at, usage);
            store.commitTurn(new dev.parley.api.values.TurnRecord("c1", "p-new", prompt, reply, usage, true, at)
                    .withMeter(new dev.parley.api.usage.UsageEntry("alice", "m", 9)));
            UsageRow day2 = store.usage("org", UsageQuery.by(UsageQuery.GroupBy.USER, DAY_2, DAY_2)
                    .inConversation("c1"), PageRequest.of(1, 20)).items().get(0);
            assertThat(day2).extracting(UsageRow::requests, UsageRow::promptTokens, UsageRow::tokensIn,
                    UsageRow::tokensOut).containsExactly(2L, 15L, 115L, 225L);
            long after = jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM parley_usage_day")
                    .mapTo(Long.class).one());
            assertThat(after).as("no row more").isEqualTo(5);
        }
    }
}
