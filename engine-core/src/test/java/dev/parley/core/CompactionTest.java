package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.compaction.Compaction;
import dev.parley.api.compaction.Summary;
import dev.parley.api.compaction.SummaryPrompt;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.ModelRequest;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

import static dev.parley.core.EngineFixture.MODEL;
import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Summarizing compaction through the engine, with a scripted summarizer: the request after compaction, the stored
 * history, each message summarized once, failures, policies and credits. Subclasses run it on other stores.
 */
public class CompactionTest {
    static final String SUMMARIZER = "summarizer";
    /** The history budget of the tests' turns: about three turns of the prompts below. */
    static final int CONTEXT = 400;
    static final String KEY = "sk-live-" + "a1B2c3D4e5F6g7H8i9J0k1L2";

    /** The store the engines under test use; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    protected ConversationStore store;
    protected final ScriptedModel model = ScriptedModel.echo();
    protected final AtomicInteger summaries = new AtomicInteger();
    protected ScriptedModel summarizer;
    private final List<ConversationEngine> engines = new ArrayList<>();

    @BeforeEach
    void aStoreAndASummarizer() {
        store = newStore();
        summarizer = ScriptedModel.builder().chatOnly()
                .replyWith(r -> "Summary " + summaries.incrementAndGet() + ": the user asked about topics up to "
                        + lastTopic(r) + ".")
                .build();
    }

    @AfterEach
    void closeEngines() {
        engines.forEach(ConversationEngine::close);
        store.close();
    }

    /** The last "topic N" the summarizer's request names. */
    public static String lastTopic(ModelRequest r) {
        String text = r.messages().get(r.messages().size() - 1).text();
        int at = text.lastIndexOf("topic ");
        return at < 0 ? "none" : text.substring(at, text.indexOf(' ', at + 6));
    }

    /** A prompt of about forty words, naming its topic. */
    public static String prompt(int i) {
        return "Please tell me more about topic " + i + " and how it relates to the shipping rules we discussed, "
                + "including which warehouses handle returns, what the customer pays, and whether the express option "
                + "applies to orders placed after noon on a weekday in the northern region.";
    }

    protected ConversationEngine engine(Compaction compaction, Function<ConversationEngine.Builder,
            ConversationEngine.Builder> more) {
        ConversationEngine e = more.apply(EngineFixture.builder(model, store, java.time.Clock.systemUTC())
                .model(SUMMARIZER, summarizer).defaultContextSize(CONTEXT).compaction(compaction)).build();
        engines.add(e);
        return e;
    }

    protected ConversationEngine engine(Compaction compaction) {
        return engine(compaction, b -> b);
    }

    static Compaction.Builder compaction() {
        return Compaction.summarizeWith(SUMMARIZER).threshold(200).maxInputTokens(600);
    }

    protected SummaryLog log() {
        return (SummaryLog) store;
    }

    protected Conversation conversation(ConversationEngine e) {
        return e.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    protected static void send(Conversation c, int from, int to) {
        for (int i = from; i < to; i++) {
            Reply r = c.send(Prompt.text(prompt(i)).build());
            assertThat(r.text()).isNotEmpty();
        }
    }

    protected static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    /** Waits for {@code count} summaries of the conversation and for compaction to settle; the latest summary. */
    protected Summary awaitSummaries(Conversation c, int count) {
        await(count + " summaries of " + c.id(), () -> log().summaries(c.id()).size() >= count);
        awaitQuiet(c);
        return log().latestSummary(c.id()).orElseThrow();
    }

    /**
     * Waits until compaction is quiet: every summarizer call so far ended (in a summary of {@code c} or not), and
     * nothing changed for 300 ms.
     */
    protected void awaitQuiet(Conversation c) {
        int calls = -1;
        int stored = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (calls != summarizer.callCount() || stored != log().summaries(c.id()).size()) {
            if (System.nanoTime() > deadline) {
                fail("compaction did not settle");
            }
            calls = summarizer.callCount();
            stored = log().summaries(c.id()).size();
            try {
                Thread.sleep(300);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    protected static List<Message> all(Conversation c) {
        List<Message> out = new ArrayList<>();
        for (int page = 1; ; page++) {
            var p = c.messages(PageRequest.of(page, 100));
            out.addAll(p.items());
            if (page >= p.totalPages()) {
                return out;
            }
        }
    }

    @Test
    void theRequestAfterCompactionHoldsTheSummaryAndTheNewestHistoryWithinTheBudget() {
        ConversationEngine e = engine(compaction().build());
        Conversation c = conversation(e);
        send(c, 0, 8);
        Summary summary = awaitSummaries(c, 1);
        assertThat(summary.fromSequence()).isEqualTo(1);
        assertThat(summary.toSequence() % 2).as("a summary ends with a whole turn").isZero();
        assertThat(summary.text()).startsWith("Summary 1:");

        send(c, 8, 9);
        List<ModelMessage> request = model.lastRequest().messages();
        assertThat(request.get(0).role()).isEqualTo(ModelMessage.Role.SYSTEM);
        assertThat(request.get(0).text()).isEqualTo(ContextStage.SUMMARY_HEADING + summary.text());
        List<Message> stored = all(c);
        // The history after the summary, whole turns, newest last; nothing the summary covers is sent again.
        List<ModelMessage> history = request.subList(1, request.size() - 1);
        assertThat(history).isNotEmpty();
        assertThat(history.size() % 2).isZero();
        long tokens = summary.tokens();
        int firstSent = stored.size() - 2 - history.size(); // index of the first message sent, before this turn's two
        for (int i = 0; i < history.size(); i++) {
            Message m = stored.get(firstSent + i);
            assertThat(m.sequence()).isGreaterThan(summary.toSequence());
            assertThat(history.get(i).text()).isEqualTo(m.text());
            tokens += m.tokens();
        }
        Message lastPrompt = stored.get(stored.size() - 2);
        assertThat(tokens + lastPrompt.tokens()).as("summary, history and prompt within contextSize")
                .isLessThanOrEqualTo(CONTEXT);
        assertThat(request.get(request.size() - 1).text()).isEqualTo(prompt(8));

        // The whole history stays stored and listed, every message once, in order.
        assertThat(stored).hasSize(18);
        for (int i = 0; i < 9; i++) {
            assertThat(stored.get(2 * i).sequence()).isEqualTo(2 * i + 1);
            assertThat(stored.get(2 * i).role()).isEqualTo(Role.USER);
            assertThat(stored.get(2 * i).text()).isEqualTo(prompt(i));
            assertThat(stored.get(2 * i + 1).role()).isEqualTo(Role.ASSISTANT);
        }
        // The summarizer saw the conversation from its first message, in the default prompt.
        ModelRequest asked = summarizer.requests().get(0);
        assertThat(asked.messages().get(0).text()).isEqualTo(SummaryPrompt.DEFAULT_INSTRUCTIONS);
        assertThat(asked.messages().get(1).text()).contains("User: " + prompt(0));
        assertThat(asked.parameters().maxOutputTokens()).hasValue(Compaction.DEFAULT_MAX_SUMMARY_TOKENS);
        assertThat(store.events(c.id())).extracting(AuditEvent::type).contains(AuditEvent.Type.CONVERSATION_COMPACTED);
    }

    @Test
    void summariesBuildOnEachOtherAndSummarizeEachMessageOnce() {
        ConversationEngine e = engine(compaction().build());
        Conversation c = conversation(e);
        for (int round = 0; round < 4; round++) {
            send(c, round * 7, round * 7 + 7);
            awaitSummaries(c, round + 1);
        }
        awaitQuiet(c);
        List<Summary> stored = log().summaries(c.id());
        assertThat(stored).hasSizeGreaterThanOrEqualTo(4);
        for (int i = 1; i < stored.size(); i++) {
            assertThat(stored.get(i).toSequence()).isGreaterThan(stored.get(i - 1).toSequence());
        }
        List<ModelRequest> asked = summarizer.requests();
        assertThat(asked).hasSize(stored.size());
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < asked.size(); i++) {
            String text = asked.get(i).messages().get(1).text();
            if (i > 0) {
                assertThat(text).startsWith("Earlier summary:\n" + stored.get(i - 1).text());
            }
            for (int t = 0; t < 28; t++) {
                if (text.contains("User: " + prompt(t) + "\n")) {
                    assertThat(seen.add(prompt(t))).as("topic %s summarized once", t).isTrue();
                }
            }
        }
        // Every message the latest summary covers was summarized by exactly one request.
        long coveredPrompts = stored.get(stored.size() - 1).toSequence() / 2;
        assertThat(seen).hasSize((int) coveredPrompts);
    }

    @Test
    void compactionNeverRunsOnTheTurnsPath() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch asked = new CountDownLatch(1);
        summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> {
            asked.countDown();
            try {
                release.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return "A summary written while turns went on.";
        }).build();
        ConversationEngine e = engine(compaction().build());
        Conversation c = conversation(e);
        send(c, 0, 8);
        assertThat(asked.await(20, TimeUnit.SECONDS)).isTrue();
        // The summarizer is still at work: turns are answered meanwhile, trimmed as before.
        send(c, 8, 14);
        assertThat(log().latestSummary(c.id())).isEmpty();
        assertThat(model.lastRequest().messages().get(0).text()).doesNotStartWith(ContextStage.SUMMARY_HEADING);
        release.countDown();
        awaitSummaries(c, 1);
    }

    @Test
    void aFailingSummarizerDoesNotFailTurnsAndIsTriedAgainLater() {
        summarizer.failNext(new IllegalStateException("upstream said " + KEY));
        ConversationEngine e = engine(compaction().retryAfter(Duration.ofMillis(300)).build());
        Conversation c = conversation(e);
        send(c, 0, 8);
        await("the failure's event", () -> store.events(c.id()).stream()
                .anyMatch(ev -> ev.type() == AuditEvent.Type.COMPACTION_FAILED));
        AuditEvent failed = store.events(c.id()).stream().filter(ev -> ev.type() == AuditEvent.Type.COMPACTION_FAILED)
                .findFirst().orElseThrow();
        assertThat(failed.detail()).startsWith("MODEL_UNAVAILABLE").doesNotContain(KEY).doesNotContain("upstream");
        assertThat(log().summaries(c.id())).isEmpty();
        // Turns go on, plain trimming; once the deferral has passed, a turn brings the compaction back.
        send(c, 8, 10);
        try {
            Thread.sleep(350);
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        send(c, 10, 11);
        Summary summary = awaitSummaries(c, 1);
        assertThat(summary.toSequence()).isGreaterThan(2);
        assertThat(all(c)).hasSize(22);
    }

    @Test
    void aSummaryIsRedactedByThePostPolicies() {
        summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> "The user shared the key " + KEY + ".").build();
        ConversationEngine e = engine(compaction().build(), b -> b.policies(PolicySet.of(
                PolicyRule.redact(new GovernanceTest.KeyPolicy()).phases(PolicyPhase.POST).build())));
        Conversation c = conversation(e);
        send(c, 0, 8);
        Summary summary = awaitSummaries(c, 1);
        assertThat(summary.text()).doesNotContain(KEY).contains("[REDACTED:SECRET]");
        send(c, 8, 9);
        assertThat(String.join("\n", model.lastRequestTexts())).doesNotContain(KEY);
    }

    @Test
    void aSummaryAPostPolicyBlocksIsNotStoredAndTurnsGoOn() {
        summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> "The user shared the key " + KEY + ".").build();
        ConversationEngine e = engine(compaction().build(), b -> b.policies(PolicySet.of(
                PolicyRule.block(new GovernanceTest.KeyPolicy()).phases(PolicyPhase.POST).build())));
        Conversation c = conversation(e);
        send(c, 0, 8);
        await("the withheld summary's event", () -> store.events(c.id()).stream()
                .anyMatch(ev -> ev.type() == AuditEvent.Type.COMPACTION_FAILED && ev.detail().equals("POLICY_BLOCKED")));
        assertThat(log().summaries(c.id())).isEmpty();
        send(c, 8, 10);
        assertThat(all(c)).hasSize(20);
    }

    @Test
    void aSummaryIsMeteredAndChargedToTheConversationsAccounts() {
        ConversationEngine e = engine(compaction().build(), b -> b
                .price(MODEL, ModelPrice.perThousand("0.15", "0.60"))
                .price(SUMMARIZER, ModelPrice.perThousand("1", "2")));
        CreditAccounts credits = e.credits();
        String account = credits.open(AccountOwner.organization(ORG)).id();
        credits.topUp(account, new BigDecimal("1000"), "test funds");
        Conversation c = conversation(e);
        send(c, 0, 8);
        Summary summary = awaitSummaries(c, 1);
        assertThat(summary.credits().metered()).isTrue();
        BigDecimal expected = ModelPrice.perThousand("1", "2").cost(summary.usage().tokensIn(),
                summary.usage().tokensOut());
        assertThat(summary.credits().used()).isEqualByComparingTo(expected);
        List<LedgerEntry> ledger = credits.ledger(account, PageRequest.of(1, 100)).items();
        List<LedgerEntry> charged = ledger.stream().filter(l -> summary.id().equals(l.messageId())).toList();
        assertThat(charged).singleElement().satisfies(l -> {
            assertThat(l.kind()).isEqualTo(LedgerEntry.Kind.CHARGE);
            assertThat(l.amount()).isEqualByComparingTo(expected.negate());
            assertThat(l.model()).isEqualTo(SUMMARIZER);
        });
        BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(credits.account(account).orElseThrow().balance()).isEqualByComparingTo(sum);
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        List<UsageRow> byModel = e.as(dev.parley.api.Caller.user("admin", ORG).organizationAdmin().build())
                .usage(UsageQuery.by(UsageQuery.GroupBy.MODEL, today.minusDays(1), today.plusDays(1)),
                        PageRequest.of(1, 100)).items();
        List<Summary> all = log().summaries(c.id());
        long summarizedIn = all.stream().mapToLong(sm -> sm.usage().tokensIn()).sum();
        BigDecimal paid = all.stream().map(sm -> sm.credits().used()).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(byModel).anySatisfy(row -> {
            assertThat(row.key()).isEqualTo(SUMMARIZER);
            assertThat(row.tokensIn()).isEqualTo(summarizedIn);
            assertThat(row.credits()).isEqualByComparingTo(paid);
        });
        // The conversation's totals stay those of its messages.
        long in = 0;
        long out = 0;
        for (Message m : all(c)) {
            if (m.usage() != null) {
                in += m.usage().tokensIn();
                out += m.usage().tokensOut();
            }
        }
        assertThat(c.info().tokensIn()).isEqualTo(in);
        assertThat(c.info().tokensOut()).isEqualTo(out);
    }

    @Test
    void aConversationThePredicateRefusesIsOnlyTrimmed() {
        ConversationEngine e = engine(compaction().appliesTo(info -> !"plain".equals(info.steering().personality())).build());
        Conversation plain = e.as(EngineFixture.member("alice"))
                .create(NewConversation.inWorkspace(WS).personality("plain").build());
        send(plain, 0, 10);
        Conversation compacted = conversation(e);
        send(compacted, 0, 8);
        awaitSummaries(compacted, 1);
        awaitQuiet(compacted);
        assertThat(log().summaries(plain.id())).isEmpty();
        assertThat(summarizer.requests()).hasSize(1);
    }

    @Test
    void aConversationWhoseHistoryFitsIsNeverSummarized() {
        ConversationEngine e = engine(compaction().build());
        Conversation c = conversation(e);
        for (int i = 0; i < 10; i++) {
            c.send(Prompt.text("hi " + i).build());
        }
        Conversation barrier = conversation(e);
        send(barrier, 0, 8);
        awaitSummaries(barrier, 1);
        awaitQuiet(barrier);
        assertThat(log().summaries(c.id())).isEmpty();
        assertThat(summarizer.requests()).hasSize(1);
    }

    @Test
    void anExportCarriesTheSummariesAndAnImportIntoAnotherStoreKeepsThem() {
        ConversationEngine e = engine(compaction().build());
        Conversation c = conversation(e);
        send(c, 0, 14);
        awaitSummaries(c, 2);
        awaitQuiet(c);
        dev.parley.api.ConversationExport export = c.export();
        List<Summary> stored = log().summaries(c.id());
        assertThat(export.summaries()).isEqualTo(stored);
        String json = export.toJson();
        assertThat(json).contains("\"version\":2").contains("\"summaries\":[{\"id\":\"" + stored.get(0).id() + "\"");

        InMemoryConversationStore elsewhere = new InMemoryConversationStore();
        try (ConversationEngine other = EngineFixture.builder(ScriptedModel.echo(), elsewhere, java.time.Clock.systemUTC())
                .model(SUMMARIZER, summarizer).build()) {
            Conversation imported = other.as(EngineFixture.member("alice"))
                    .importConversation(dev.parley.api.ConversationExport.fromJson(json));
            assertThat(elsewhere.summaries(imported.id())).isEqualTo(stored);
            String again = imported.export().toJson();
            assertThat(again.substring(again.indexOf(",\"messages\":")))
                    .isEqualTo(json.substring(json.indexOf(",\"messages\":")));
            // A document of version 1, written before summaries were exported, reads as one without them.
            String v1 = json.replace("\"version\":2", "\"version\":1")
                    .substring(0, json.indexOf(",\"summaries\":")) + "}";
            assertThat(dev.parley.api.ConversationExport.fromJson(v1).summaries()).isEmpty();
            // A summary covering messages the export does not have is refused, naming it, and nothing is stored.
            String beyond = json.replace("\"toSequence\":" + stored.get(0).toSequence() + ",",
                    "\"toSequence\":999,");
            assertThatThrownBy(() -> dev.parley.api.ConversationExport.fromJson(beyond))
                    .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                            ex -> assertThat(ex.field()).isEqualTo("summaries[0].toSequence"));
        }
    }

    @Test
    void theContextSendsSteeringThenTheSummaryThenHistoryThenAdditionalContextThenThePrompt() {
        ConversationEngine e = engine(compaction().build());
        Conversation c = e.as(EngineFixture.member("alice"))
                .create(NewConversation.inWorkspace(WS).personality("Be brief.").build());
        send(c, 0, 8);
        Summary summary = awaitSummaries(c, 1);
        c.send(Prompt.text(prompt(8)).additionalContext("The customer is on the gold plan.").build());
        List<ModelMessage> request = model.lastRequest().messages();
        assertThat(request.get(0)).isEqualTo(ModelMessage.system("Be brief."));
        assertThat(request.get(1)).isEqualTo(ModelMessage.system(ContextStage.SUMMARY_HEADING + summary.text()));
        assertThat(request.get(2).role()).isEqualTo(ModelMessage.Role.USER);
        assertThat(request.get(request.size() - 3).role()).isEqualTo(ModelMessage.Role.ASSISTANT);
        assertThat(request.get(request.size() - 2)).isEqualTo(ModelMessage.system("The customer is on the gold plan."));
        assertThat(request.get(request.size() - 1)).isEqualTo(ModelMessage.user(prompt(8)));
    }

    @Test
    void anErasureStopsACompactionThatReadTheErasedText() throws InterruptedException {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch asked = new CountDownLatch(1);
        summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> {
            asked.countDown();
            try {
                release.await();
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
            }
            return "Alice said: " + lastTopic(r);
        }).build();
        ConversationEngine e = engine(compaction().build());
        // Bob's conversation holds Alice's words (tagged with her user id), as a support desk's does.
        Conversation bobs = e.as(EngineFixture.member("bob")).create(NewConversation.inWorkspace(WS).build());
        for (int i = 0; i < 8; i++) {
            bobs.send(Prompt.text(prompt(i)).user("alice").build());
        }
        assertThat(asked.await(20, TimeUnit.SECONDS)).isTrue();
        e.maintenance().erase(ORG, "alice");
        release.countDown();
        // A conversation compacted after Bob's, on the same thread, shows that Bob's compaction has ended.
        Conversation barrier = conversation(e);
        send(barrier, 0, 8);
        awaitSummaries(barrier, 1);
        // The summary read before the erasure is not stored; one written after it read only the erased messages.
        assertThat(log().summaries(bobs.id())).as("no summary written from text read before the erasure")
                .allSatisfy(sm -> assertThat(sm.text()).isEqualTo("Alice said: none"));
    }

    @Test
    void aSummaryAnErasureDeletedIsNotSentAgain() {
        ConversationEngine e = engine(compaction().build());
        Conversation bobs = e.as(EngineFixture.member("bob")).create(NewConversation.inWorkspace(WS).build());
        for (int i = 0; i < 8; i++) {
            bobs.send(Prompt.text(prompt(i)).user("alice").build());
        }
        Summary summary = awaitSummaries(bobs, 1);
        bobs.send(Prompt.text(prompt(8)).build());
        assertThat(model.lastRequestTexts()).contains(ContextStage.SUMMARY_HEADING + summary.text());
        e.maintenance().erase(ORG, "alice");
        bobs.send(Prompt.text(prompt(9)).build());
        assertThat(String.join("\n", model.lastRequestTexts())).doesNotContain(summary.text());
    }

    @Test
    void aWithheldSummaryIsChargedAsABlockedTurnIs() {
        summarizer = ScriptedModel.builder().chatOnly().replyWith(r -> "The user shared the key " + KEY + ".")
                .usage(300, 12).build();
        ConversationEngine e = engine(compaction().build(), b -> b
                .policies(PolicySet.of(PolicyRule.block(new GovernanceTest.KeyPolicy()).phases(PolicyPhase.POST).build()))
                .price(MODEL, ModelPrice.perThousand("0.15", "0.60"))
                .price(SUMMARIZER, ModelPrice.perThousand("1", "2")));
        CreditAccounts credits = e.credits();
        String account = credits.open(AccountOwner.organization(ORG)).id();
        credits.topUp(account, new BigDecimal("1000"), "test funds");
        Conversation c = conversation(e);
        send(c, 0, 8);
        await("the withheld summary's event", () -> store.events(c.id()).stream()
                .anyMatch(ev -> ev.type() == AuditEvent.Type.COMPACTION_FAILED && ev.detail().equals("POLICY_BLOCKED")));
        assertThat(log().summaries(c.id())).isEmpty();
        List<LedgerEntry> ledger = credits.ledger(account, PageRequest.of(1, 100)).items();
        BigDecimal expected = ModelPrice.perThousand("1", "2").cost(300, 12);
        assertThat(ledger.stream().filter(l -> SUMMARIZER.equals(l.model())).toList()).singleElement()
                .satisfies(l -> assertThat(l.amount()).isEqualByComparingTo(expected.negate()));
        BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(credits.account(account).orElseThrow().balance()).isEqualByComparingTo(sum);
        assertThat(credits.account(account).orElseThrow().reserved()).isEqualByComparingTo(BigDecimal.ZERO);
    }

    @Test
    void aSummaryTheAccountsCannotPayForIsNotWrittenAndNoBalanceGoesBelowZero() {
        ConversationEngine e = engine(compaction().build(), b -> b
                .price(MODEL, ModelPrice.perThousand("0.001", "0.001"))
                .price(SUMMARIZER, ModelPrice.perThousand("500", "500")));
        CreditAccounts credits = e.credits();
        String account = credits.open(AccountOwner.organization(ORG)).id();
        credits.topUp(account, new BigDecimal("5"), "a little");
        Conversation c = conversation(e);
        send(c, 0, 8);
        await("the refused reservation's event", () -> store.events(c.id()).stream()
                .anyMatch(ev -> ev.type() == AuditEvent.Type.COMPACTION_FAILED && ev.detail().equals("BUDGET_EXCEEDED")));
        assertThat(summarizer.callCount()).as("no summarizer call without its credits").isZero();
        assertThat(log().summaries(c.id())).isEmpty();
        send(c, 8, 10);
        var now = credits.account(account).orElseThrow();
        List<LedgerEntry> ledger = credits.ledger(account, PageRequest.of(1, 100)).items();
        BigDecimal sum = ledger.stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(now.balance()).isEqualByComparingTo(sum).isNotNegative();
        assertThat(ledger).noneMatch(l -> SUMMARIZER.equals(l.model()));
    }

    @Test
    void theBuilderRefusesAnUnregisteredSummarizerAndAStoreWithoutSummaries() {
        assertThatThrownBy(() -> EngineFixture.builder(model, store)
                .compaction(Compaction.summarizeWith("nobody").build()).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("nobody");
        ConversationStore plain = new dev.parley.core.internal.ForwardingConversationStore(
                new InMemoryConversationStore()) {
        };
        assertThatThrownBy(() -> EngineFixture.builder(model, plain).model(SUMMARIZER, summarizer)
                .compaction(Compaction.summarizeWith(SUMMARIZER).build()).build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("SummaryLog");
        assertThatThrownBy(() -> Compaction.summarizeWith(SUMMARIZER).threshold(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threshold");
        assertThatThrownBy(() -> Compaction.summarizeWith(" "))
                .isInstanceOf(dev.parley.api.InvalidRequestException.class);
        assertThat(Compaction.OFF.enabled()).isFalse();
        assertThat(Optional.ofNullable(Compaction.OFF.model().orElse(null))).isEmpty();
    }
}
