package dev.parley.api.credits;

import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneId;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Periods, renewals and limits as a host writes them: what they mean, and what they refuse. */
class AccountTermsTest {

    private static BigDecimal credits(String value) {
        return new BigDecimal(value).setScale(Credits.SCALE);
    }

    @Test
    void monthlyPeriodsAreCalendarMonthsInUtc() {
        CreditPeriod monthly = CreditPeriod.parse("monthly");
        Instant mid = Instant.parse("2026-02-14T13:00:00Z");
        assertThat(monthly.startOf(mid)).isEqualTo(Instant.parse("2026-02-01T00:00:00Z"));
        assertThat(monthly.endOf(mid)).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
        assertThat(monthly.startOf(Instant.parse("2026-03-01T00:00:00Z")))
                .as("a period starts at its first instant").isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
        assertThat(monthly.endOf(Instant.parse("2026-02-28T23:59:59.999999Z")))
                .isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
    }

    @Test
    void periodsAnchoredOnTheThirtyFirstKeepTheirMonthEnds() {
        CreditPeriod p = CreditPeriod.parse("P1M from 2026-01-31");
        assertThat(p.startOf(Instant.parse("2026-03-05T00:00:00Z"))).isEqualTo(Instant.parse("2026-02-28T00:00:00Z"));
        assertThat(p.endOf(Instant.parse("2026-03-05T00:00:00Z"))).isEqualTo(Instant.parse("2026-03-31T00:00:00Z"));
        assertThat(p.startOf(Instant.parse("2025-12-31T12:00:00Z")))
                .as("before the anchor too").isEqualTo(Instant.parse("2025-12-31T00:00:00Z"));
    }

    @Test
    void aZoneMovesMidnightAndTheTextFormReadsBack() {
        CreditPeriod berlin = CreditPeriod.parse("P1M from 2026-01-15 in Europe/Berlin");
        assertThat(berlin.startOf(Instant.parse("2026-07-20T00:00:00Z")))
                .isEqualTo(Instant.parse("2026-07-14T22:00:00Z")); // summer time: UTC+2
        assertThat(CreditPeriod.parse(berlin.toString())).isEqualTo(berlin);
        assertThat(CreditPeriod.parse("weekly").startOf(Instant.parse("2026-12-03T10:00:00Z")))
                .as("weeks start on Monday").isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));
        assertThat(CreditPeriod.parse("P2W")).isEqualTo(new CreditPeriod(Period.ofDays(14),
                CreditPeriod.DEFAULT_ANCHOR, ZoneId.of("Z")));
        assertThat(CreditPeriod.parse("P1Y")).isEqualTo(CreditPeriod.yearly());
        for (CreditPeriod p : new CreditPeriod[] {CreditPeriod.daily(), CreditPeriod.weekly(), CreditPeriod.monthly(),
                CreditPeriod.yearly(), CreditPeriod.monthly().from(LocalDate.of(2026, 2, 29 - 1))}) {
            assertThat(CreditPeriod.parse(p.toString())).isEqualTo(p);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "fortnightly", "P0D", "P-1M", "P1M2D", "PT1H", "P11Y", "P3661D",
            "monthly from", "monthly from 2026-13-01", "monthly in", "monthly in Mars/Olympus", "monthly sometimes",
            "monthly in UTC from 2026-01-01", "P1M\u0000", "'; DROP TABLE parley_credit_account; --"})
    void aPeriodThatDoesNotParseIsRefusedNamingPeriod(String text) {
        assertThatThrownBy(() -> CreditPeriod.parse(text)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> {
                    assertThat(e.field()).isEqualTo("period");
                    assertThat(e.getMessage()).doesNotContain("DROP");
                });
    }

    @Test
    void termsRefuseWhatCannotWorkNamingTheField() {
        record Bad(String field, Runnable call) {
        }
        for (Bad b : new Bad[] {
                new Bad("period", () -> CreditPeriod.parse(null)),
                new Bad("period", () -> new AccountTerms(null, AccountTerms.Renewal.RESET, BigDecimal.TEN, null)),
                new Bad("allowance", () -> new AccountTerms(CreditPeriod.monthly(), AccountTerms.Renewal.TOP_UP, null,
                        null)),
                new Bad("allowance", () -> AccountTerms.every(CreditPeriod.monthly()).resetTo("0")),
                new Bad("allowance", () -> AccountTerms.every(CreditPeriod.monthly()).resetTo("-5")),
                new Bad("allowance", () -> AccountTerms.every(CreditPeriod.monthly()).topUp("ten")),
                new Bad("allowance", () -> AccountTerms.every(CreditPeriod.monthly()).topUp("0.0000000001")),
                new Bad("allowance", () -> new AccountTerms(CreditPeriod.monthly(), AccountTerms.Renewal.KEEP,
                        BigDecimal.ONE, null)),
                new Bad("limit", () -> SpendLimit.hard("0")),
                new Bad("limit", () -> SpendLimit.soft("-1")),
                new Bad("limit", () -> SpendLimit.soft("1e3")),
                new Bad("limit", () -> SpendLimit.hard(" ")),
                new Bad("limit", () -> new SpendLimit(new BigDecimal("0.0000000001"), SpendLimit.Kind.HARD))}) {
            assertThatThrownBy(b.call()::run).as(b.field()).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo(b.field()));
        }
    }

    @Test
    void aRenewalResetsKeepingWhatLiveHoldsReserveOrTopsUpOncePerPeriod() {
        AccountTerms reset = AccountTerms.every(CreditPeriod.monthly()).resetTo("40");
        assertThat(reset.renewedBalance(credits("98"), credits("0"), 1)).isEqualByComparingTo("40");
        assertThat(reset.renewedBalance(credits("10"), credits("7"), 3)).isEqualByComparingTo("47");
        assertThat(reset.renewedBalance(credits("3"), credits("7"), 1))
                .as("holds never keep more than the balance had").isEqualByComparingTo("43");
        AccountTerms topUp = AccountTerms.every(CreditPeriod.monthly()).topUp("10");
        assertThat(topUp.renewedBalance(credits("5"), credits("1"), 3)).isEqualByComparingTo("35");
        assertThat(AccountTerms.every(CreditPeriod.monthly()).renewedBalance(credits("5"), credits("1"), 2))
                .isEqualByComparingTo("5");
    }

    @Test
    void availableCreditsAreTheTighterOfTheBalanceAndAHardLimit() {
        AccountOwner owner = AccountOwner.organization("acme");
        Instant start = Instant.parse("2026-02-01T00:00:00Z");
        Instant end = Instant.parse("2026-03-01T00:00:00Z");
        AccountTerms hard = AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.hard("10"));
        CreditAccount a = new CreditAccount("a", owner, credits("100"), credits("2"), start, hard, credits("5"),
                start, end);
        assertThat(a.available()).isEqualByComparingTo("3");
        assertThat(a.limitReached()).isFalse();
        CreditAccount soft = new CreditAccount("a", owner, credits("100"), credits("2"), start,
                hard.limit(SpendLimit.soft("10")), credits("5"), start, end);
        assertThat(soft.available()).isEqualByComparingTo("98");
        assertThat(soft.softLimitReachedBy(credits("2.999999999"))).isFalse();
        assertThat(soft.softLimitReachedBy(credits("3"))).isTrue();
        assertThat(a.renewalDue(end.minusNanos(1000))).isFalse();
        assertThat(a.renewed(end).periodStart()).isEqualTo(end);
        assertThat(a.renewed(end).spent()).isEqualByComparingTo("0");
    }
}
