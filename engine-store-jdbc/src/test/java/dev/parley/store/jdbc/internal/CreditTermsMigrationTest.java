package dev.parley.store.jdbc.internal;

import dev.parley.api.Credits;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.store.jdbc.JdbcConversationStore;
import org.flywaydb.core.Flyway;
import org.h2.jdbcx.JdbcDataSource;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A database made before accounts had terms upgrades in place: its accounts get no period and no limit, and their
 * spending so far is the sum of their charges, so that a lifetime limit set later counts them.
 */
class CreditTermsMigrationTest {

    @Test
    void accountsOfAnOlderSchemaGetNoTermsAndTheirChargesAsTheirSpending() {
        String url = "jdbc:h2:mem:terms-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
        JdbcDataSource ds = new JdbcDataSource();
        ds.setURL(url);
        Flyway.configure().dataSource(ds).locations(Migrations.LOCATION).table(Migrations.HISTORY_TABLE)
                .placeholders(Map.of("day", Dialect.H2.day())).target("9").load().migrate();
        Jdbi jdbi = Jdbi.create(ds);
        jdbi.useHandle(h -> {
            h.execute("INSERT INTO parley_credit_account (id, organization_id, owner_kind, owner_id, balance, created_at) "
                    + "VALUES ('acct-1', 'org', 'ORGANIZATION', 'org', 96.5, TIMESTAMP WITH TIME ZONE '2026-01-01 00:00:00Z')");
            String entry = "INSERT INTO parley_credit_ledger (id, account_id, kind, amount, balance_after, reason, at, "
                    + "tokens_in, tokens_out) VALUES (?, 'acct-1', ?, ?, ?, 'r', "
                    + "TIMESTAMP WITH TIME ZONE '2026-01-02 00:00:00Z', 0, 0)";
            h.execute(entry, "le-1", "TOP_UP", new BigDecimal("100"), new BigDecimal("100"));
            h.execute(entry, "le-2", "CHARGE", new BigDecimal("-1.25"), new BigDecimal("98.75"));
            h.execute(entry, "le-3", "CHARGE", new BigDecimal("-2.25"), new BigDecimal("96.5"));
        });

        try (JdbcConversationStore store = JdbcConversationStore.builder().dataSource(ds).build()) {
            CreditAccount a = store.account("acct-1", Instant.parse("2026-02-01T00:00:00Z")).orElseThrow();
            assertThat(a.terms()).isEqualTo(AccountTerms.NONE);
            assertThat(a.spent()).isEqualTo(new BigDecimal("3.5").setScale(Credits.SCALE));
            assertThat(a.balance()).isEqualTo(new BigDecimal("96.5").setScale(Credits.SCALE));
            assertThat(a.periodEnd()).isNull();
        }
    }
}
