package dev.parley.core;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;
import dev.parley.api.retention.PurgeReport;
import dev.parley.api.retention.RetentionRule;
import dev.parley.api.spi.ConversationPurges;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ViolationLog;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

import static dev.parley.core.EngineFixture.MODEL;
import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Retention purges and erasure: what the rule selects is hard-deleted with everything in it and audited with
 * counts; what it does not select is untouched; an erasure removes a user's conversations and their text from
 * others' and unlinks the rest. Runs on the in-memory store; engine-store-jdbc runs it on H2 and PostgreSQL and
 * checks the tables themselves.
 */
public class RetentionTest {
    static final String KEY = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0k1L2";
    private static final Caller ALICE = EngineFixture.member("alice");
    private static final Caller BOB = EngineFixture.member("bob");
    private static final Caller ADMIN = Caller.user("olga", ORG).organizationAdmin().build();

    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    protected ConversationStore store;
    protected final ScriptedModel model = ScriptedModel.echo();
    protected final EngineFixture.TickingClock clock = new EngineFixture.TickingClock(Instant.parse("2026-01-01T00:00:00Z"));
    protected ConversationEngine engine;
    protected String account;

    @BeforeEach
    void anEngineWithCreditsAndALoggingPolicy() {
        store = newStore();
        engine = EngineFixture.builder(model, store, clock)
                .price(MODEL, ModelPrice.perThousand("0.15", "0.60"))
                .policies(PolicySet.of(PolicyRule.log(new GovernanceTest.KeyPolicy()).build()))
                .build();
        CreditAccounts credits = engine.credits();
        account = credits.open(AccountOwner.organization(ORG)).id();
        credits.topUp(account, new BigDecimal("1000"), "test funds");
    }

    @AfterEach
    void closeEngine() {
        engine.close();
    }

    /** A conversation of {@code caller}'s with {@code turns} turns, the first carrying a key the policy logs. */
    protected Conversation conversation(Caller caller, String workspace, int turns, String userTag) {
        Conversation c = engine.as(caller).create(NewConversation.inWorkspace(workspace).personality("Be brief.").build());
        for (int i = 0; i < turns; i++) {
            Prompt.Builder p = Prompt.text(i == 0 ? "my key is " + KEY : "question " + i).id(c.id() + "-p" + i);
            if (userTag != null) {
                p.user(userTag);
            }
            c.send(p.build());
        }
        return c;
    }

    private ConversationPurges purges() {
        return (ConversationPurges) store;
    }

    private List<Message> messages(String conversationId) {
        return store.messages(conversationId, PageRequest.of(1, 100)).items();
    }

    private List<Violation> violations(String workspace) {
        return ((ViolationLog) store).violations(ViolationQuery.workspace(ORG, workspace), PageRequest.of(1, 100)).items();
    }

    @Test
    void aPurgeDeletesInactiveConversationsWithEverythingInThemAndAuditsTheCounts() {
        Conversation old = conversation(ALICE, WS, 3, null);
        clock.advance(Duration.ofDays(400));
        Conversation recent = conversation(ALICE, WS, 2, null);
        List<Message> recentBefore = messages(recent.id());
        List<AuditEvent> recentEvents = store.events(recent.id());

        PurgeReport report = engine.maintenance().purge(RetentionRule.organization(ORG)
                .inactiveFor(Duration.ofDays(365)).build());

        assertThat(report).isEqualTo(new PurgeReport(1, 6, 0));
        assertThat(store.find(old.id())).isEmpty();
        assertThat(messages(old.id())).isEmpty();
        assertThat(purges().ownedBy(ORG, "alice", null, 10)).containsExactly(recent.id());
        assertThat(store.events(old.id())).extracting(AuditEvent::type).endsWith(AuditEvent.Type.CONVERSATION_PURGED);
        AuditEvent purged = store.events(old.id()).get(store.events(old.id()).size() - 1);
        assertThat(purged.detail()).isEqualTo("retention, messages=6");
        assertThat(purged.actorId()).isEqualTo("parley:maintenance");
        // The compliance record stays, without the text around the finding.
        assertThat(violations(WS)).filteredOn(v -> v.conversationId().equals(old.id())).hasSize(2)
                .allSatisfy(v -> assertThat(v.excerpt()).isEmpty());
        assertThat(violations(WS)).filteredOn(v -> v.conversationId().equals(recent.id())).hasSize(2)
                .allSatisfy(v -> assertThat(v.excerpt()).isNotEmpty());
        // What the rule did not select is untouched, and keeps taking turns.
        assertThat(messages(recent.id())).isEqualTo(recentBefore);
        assertThat(store.events(recent.id())).isEqualTo(recentEvents);
        recent.send(Prompt.text("still here").build());
        assertThat(messages(recent.id())).hasSize(6);
        // Nothing left to purge: a second run removes nothing.
        assertThat(engine.maintenance().purge(RetentionRule.organization(ORG).inactiveFor(Duration.ofDays(365)).build()))
                .isEqualTo(PurgeReport.NONE);
    }

    @Test
    void aPurgeThatStopsHalfWayLeavesTheConversationHiddenAndTheNextPurgeFinishesIt() {
        Conversation old = conversation(ALICE, WS, 3, null);
        clock.advance(Duration.ofDays(400));
        assertThatThrownBy(() -> purges().purge(old.id(), 2, false, (org, ws, n) -> {
            throw new IllegalStateException("stopped before the last step");
        })).isInstanceOf(IllegalStateException.class);
        assertThat(store.find(old.id())).isEmpty();
        assertThatThrownBy(() -> engine.as(ALICE).get(old.id()))
                .isInstanceOf(dev.parley.api.ConversationNotFoundException.class);

        PurgeReport report = engine.maintenance().purge(RetentionRule.organization(ORG)
                .inactiveFor(Duration.ofDays(365)).build());

        assertThat(report.conversations()).isEqualTo(1);
        assertThat(messages(old.id())).isEmpty();
        assertThat(purges().ownedBy(ORG, "alice", null, 10)).isEmpty();
        assertThat(store.events(old.id())).extracting(AuditEvent::type).containsOnlyOnce(AuditEvent.Type.CONVERSATION_PURGED);
    }

    @Test
    void aPurgeOfDeletedConversationsKeepsThoseDeletedMoreRecently() {
        Conversation longDeleted = conversation(ALICE, WS, 1, null);
        longDeleted.delete();
        clock.advance(Duration.ofDays(20));
        Conversation recentlyDeleted = conversation(ALICE, WS, 1, null);
        recentlyDeleted.delete();
        Conversation live = conversation(ALICE, WS, 1, null);
        clock.advance(Duration.ofDays(15));

        PurgeReport report = engine.maintenance().purge(RetentionRule.organization(ORG)
                .deletedFor(Duration.ofDays(30)).build());

        assertThat(report).isEqualTo(new PurgeReport(1, 2, 0));
        assertThat(purges().ownedBy(ORG, "alice", null, 10))
                .containsExactlyInAnyOrder(recentlyDeleted.id(), live.id());
        assertThat(store.find(live.id())).isPresent();
    }

    @Test
    void aPurgeKeepsToItsWorkspaceAndOrganization() {
        Conversation here = conversation(EngineFixture.member("alice"), WS, 1, null);
        Caller otherWorkspace = Caller.user("alice", ORG).member("ws-2").build();
        Conversation there = conversation(otherWorkspace, "ws-2", 1, null);
        Caller otherOrg = Caller.user("alice", "org-2").member(WS).build();
        Conversation elsewhere = engine.as(otherOrg).create(NewConversation.inWorkspace(WS).build());
        elsewhere.send(Prompt.text("hello").build());
        clock.advance(Duration.ofDays(400));

        PurgeReport report = engine.maintenance().purge(RetentionRule.organization(ORG).workspace("ws-2")
                .inactiveFor(Duration.ofDays(365)).build());

        assertThat(report.conversations()).isEqualTo(1);
        assertThat(store.find(there.id())).isEmpty();
        assertThat(store.find(here.id())).isPresent();
        assertThat(store.find(elsewhere.id())).isPresent();
        assertThat(messages(here.id())).hasSize(2);
        assertThat(messages(elsewhere.id())).hasSize(2);
    }

    @Test
    void anErasureRemovesAUsersConversationsAndTheirTextElsewhereAndUnlinksTheRest() {
        Conversation own = conversation(ALICE, WS, 2, null);
        Conversation ownDeleted = conversation(ALICE, WS, 1, null);
        ownDeleted.delete();
        Conversation bobs = conversation(BOB, WS, 1, null);
        engine.as(ADMIN).get(bobs.id()).send(Prompt.text("asked for alice").user("alice").source("desk").build());
        bobs.send(Prompt.text("bob again").build());
        List<LedgerEntry> ledgerBefore = ledger();
        BigDecimal balance = engine.credits().account(account).orElseThrow().balance();
        List<String> ownCharges = ledgerBefore.stream().filter(e -> own.id().equals(e.conversationId()))
                .map(LedgerEntry::id).toList();
        assertThat(ownCharges).hasSize(2);

        PurgeReport report = engine.maintenance().erase(ORG, "alice");

        assertThat(report).isEqualTo(new PurgeReport(2, 6, 2));
        assertThat(store.find(own.id())).isEmpty();
        assertThat(purges().ownedBy(ORG, "alice", null, 10)).isEmpty();
        List<Message> bobsMessages = messages(bobs.id());
        assertThat(bobsMessages).hasSize(6);
        assertThat(bobsMessages.subList(2, 4)).allSatisfy(m -> {
            assertThat(m.text()).isEmpty();
            assertThat(m.user()).isNull();
            assertThat(m.source()).isNull();
        });
        assertThat(bobsMessages.get(0).text()).contains("my key is");
        assertThat(bobsMessages.get(4).text()).isEqualTo("bob again");
        assertThat(store.events(bobs.id())).extracting(AuditEvent::type).endsWith(AuditEvent.Type.USER_ERASED);
        // Ledger entries keep their amounts; those of her conversations lose the link to them.
        List<LedgerEntry> ledgerAfter = ledger();
        assertThat(ledgerAfter).extracting(LedgerEntry::amount)
                .containsExactlyElementsOf(ledgerBefore.stream().map(LedgerEntry::amount).toList());
        assertThat(ledgerAfter).filteredOn(e -> ownCharges.contains(e.id())).allSatisfy(e -> {
            assertThat(e.conversationId()).isNull();
            assertThat(e.messageId()).isNull();
        });
        assertThat(engine.credits().account(account).orElseThrow().balance()).isEqualByComparingTo(balance);
        // Her usage rows and the events she acted in name a pseudonym, the same for all of them.
        List<UsageRow> byUser = engine.as(ADMIN).usage(UsageQuery.by(UsageQuery.GroupBy.USER,
                LocalDate.parse("2025-12-01"), LocalDate.parse("2026-02-01")), PageRequest.of(1, 100)).items();
        assertThat(byUser).extracting(UsageRow::key).doesNotContain("alice").contains("bob");
        List<String> pseudonyms = byUser.stream().map(UsageRow::key).filter(k -> k.startsWith("erased-")).distinct()
                .toList();
        assertThat(pseudonyms).hasSize(1);
        List<AuditEvent> all = new ArrayList<>();
        for (String id : List.of(own.id(), ownDeleted.id(), bobs.id())) {
            all.addAll(store.events(id));
        }
        assertThat(all).extracting(AuditEvent::actorId).doesNotContain("alice").contains(pseudonyms.get(0));
    }

    private List<LedgerEntry> ledger() {
        return engine.credits().ledger(account, PageRequest.of(1, 100)).items();
    }

    @Test
    void badRulesAndIdsAreRefusedNamingTheField() {
        assertThatThrownBy(() -> RetentionRule.organization(ORG).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("inactiveFor"));
        assertThatThrownBy(() -> RetentionRule.organization(" ").inactiveFor(Duration.ofDays(1)).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("organizationId"));
        assertThatThrownBy(() -> RetentionRule.organization(ORG).deletedFor(Duration.ZERO).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("deletedFor"));
        assertThatThrownBy(() -> RetentionRule.organization(ORG).workspace("w\u202es").inactiveFor(Duration.ofDays(1)).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("workspaceId"));
        assertThatThrownBy(() -> engine.maintenance().purge(null))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("rule"));
        assertThatThrownBy(() -> engine.maintenance().erase(ORG, ""))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("userId"));
        Conversation kept = conversation(ALICE, WS, 1, null);
        assertThat(engine.maintenance().erase("o'; DROP TABLE parley_message; --", "alice")).isEqualTo(PurgeReport.NONE);
        assertThat(engine.maintenance().erase(ORG, "alice' OR '1'='1")).isEqualTo(PurgeReport.NONE);
        assertThat(messages(kept.id())).hasSize(2);
    }
}
