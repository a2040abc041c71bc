package dev.parley.core;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.ModelParameters;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditPeriod;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.credits.SpendLimit;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.CreditLedger;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Credits through the engine: a budget reserves before the model call or refuses the turn, every terminal path
 * charges what it should, a replay is not charged again, and concurrent turns on one or two engines never spend
 * past the balance. A subclass runs the same tests on a database, with the second engine on its own pool.
 */
public class CreditsTest {
    /** Output only, 1 credit per token: a turn that reports 5 output tokens costs exactly 5. */
    static final ModelPrice PER_OUTPUT_TOKEN = ModelPrice.perThousand("0", "1000");
    /** 0.5 per 1,000 input tokens and 1.5 per 1,000 output tokens. */
    static final ModelPrice ORDINARY = ModelPrice.perThousand("0.5", "1.5");

    private final List<ConversationEngine> engines = new ArrayList<>();
    private final ConversationStore store = newStore();

    /** The store of the first engine; a subclass runs the tests on another. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /** A second store object on the same data as {@code first}, for a second engine; the same object in memory. */
    protected ConversationStore sameData(ConversationStore first) {
        return first;
    }

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private ConversationEngine engine(ConversationStore on, ScriptedModel model, ModelPrice price,
                                      Function<ConversationEngine.Builder, ConversationEngine.Builder> more) {
        ConversationEngine e = more.apply(ConversationEngine.builder().store(on).model(EngineFixture.MODEL, model)
                .clock(Clock.systemUTC()).price(EngineFixture.MODEL, price)).build();
        engines.add(e);
        return e;
    }

    private ConversationEngine engine(ScriptedModel model, ModelPrice price) {
        return engine(store, model, price, b -> b);
    }

    private static BigDecimal credits(String value) {
        return new BigDecimal(value).setScale(Credits.SCALE);
    }

    private CreditAccount funded(ConversationEngine engine, AccountOwner owner, String balance) {
        CreditAccounts accounts = engine.credits();
        CreditAccount a = accounts.account(owner).orElseGet(() -> accounts.open(owner));
        accounts.topUp(a.id(), new BigDecimal(balance), "test funds");
        return accounts.account(a.id()).orElseThrow();
    }

    private static BigDecimal balance(ConversationEngine engine, CreditAccount a) {
        return engine.credits().account(a.id()).orElseThrow().balance();
    }

    private static BigDecimal reserved(ConversationEngine engine, CreditAccount a) {
        return engine.credits().account(a.id()).orElseThrow().reserved();
    }

    /** The charges on the account's ledger, oldest first. */
    private static List<LedgerEntry> charges(ConversationEngine engine, CreditAccount a) {
        List<LedgerEntry> out = new ArrayList<>();
        for (int page = 1; ; page++) {
            var p = engine.credits().ledger(a.id(), PageRequest.of(page, 100));
            p.items().stream().filter(e -> e.kind() == LedgerEntry.Kind.CHARGE).forEach(out::add);
            if (page >= p.totalPages()) {
                java.util.Collections.reverse(out);
                return out;
            }
        }
    }

    private static Conversation conversation(ConversationEngine engine) {
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    private static Prompt capped(String text, int maxOutputTokens) {
        return Prompt.text(text).modelParameters(ModelParameters.builder().maxOutputTokens(maxOutputTokens).build())
                .build();
    }

    @Test
    void sixtyFourThreadsOnTwoEnginesSpendExactlyWhatTheBalanceCoversAndNoTurnPastItCallsTheModel() throws Exception {
        int covered = 20;
        // Each turn reserves 5 output tokens (5 credits) and reports exactly that: the balance covers 20 turns.
        ScriptedModel first = ScriptedModel.builder().replyWith(r -> "five tokens of reply").usage(7, 5).build();
        ScriptedModel second = ScriptedModel.builder().replyWith(r -> "five tokens of reply").usage(7, 5).build();
        ConversationEngine a = engine(store, first, PER_OUTPUT_TOKEN, b -> b);
        ConversationEngine b = engine(sameData(store), second, PER_OUTPUT_TOKEN, x -> x);
        CreditAccount account = funded(a, AccountOwner.organization(ORG), String.valueOf(5 * covered));
        BigDecimal opening = balance(a, account);
        int threads = 64;
        List<Conversation> conversations = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            conversations.add(conversation(i % 2 == 0 ? a : b));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Reply>> sends = new ArrayList<>();
        try {
            for (Conversation c : conversations) {
                sends.add(pool.submit(() -> {
                    start.await();
                    return c.send(capped("spend", 5));
                }));
            }
            start.countDown();
            List<Reply> replies = new ArrayList<>();
            int refused = 0;
            for (Future<Reply> f : sends) {
                try {
                    replies.add(f.get(120, TimeUnit.SECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(BudgetExceededException.class);
                    assertThat(((BudgetExceededException) e.getCause()).accountId()).isEqualTo(account.id());
                    refused++;
                }
            }
            assertThat(replies).hasSize(covered);
            assertThat(refused).isEqualTo(threads - covered);
            assertThat(first.callCount() + second.callCount()).as("model calls").isEqualTo(covered);
            BigDecimal charged = charges(a, account).stream().map(LedgerEntry::amount).reduce(BigDecimal.ZERO,
                    BigDecimal::add).negate();
            assertThat(charged).isEqualByComparingTo(credits("100"));
            assertThat(replies.stream().map(r -> r.credits().used()).reduce(BigDecimal.ZERO, BigDecimal::add))
                    .isEqualByComparingTo(charged);
            assertThat(balance(a, account)).isEqualTo(opening.subtract(charged)).isEqualTo(credits("0"));
            assertThat(reserved(a, account)).isEqualTo(credits("0"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSuccessfulTurnIsChargedItsRealCostOnEveryAccountAndTheReplyNamesTheTightest() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(1200, 300).build();
        ConversationEngine engine = engine(model, ORDINARY);
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "100");
        CreditAccount ws = funded(engine, AccountOwner.workspace(ORG, WS), "3");
        CreditAccount user = funded(engine, AccountOwner.user(ORG, "alice"), "50");

        Reply reply = conversation(engine).send(capped("hello", 1000)); // reserves at most 0.5 × k + 1.5

        BigDecimal cost = credits("1.05"); // 1,200 × 0.0005 + 300 × 0.0015
        assertThat(reply.credits()).isEqualTo(Credits.charged(cost, credits("1.95"), ws.id()));
        assertThat(balance(engine, org)).isEqualTo(credits("98.95"));
        assertThat(balance(engine, ws)).isEqualTo(credits("1.95"));
        assertThat(balance(engine, user)).isEqualTo(credits("48.95"));
        for (CreditAccount a : List.of(org, ws, user)) {
            assertThat(reserved(engine, a)).isEqualTo(credits("0"));
            assertThat(charges(engine, a)).singleElement().satisfies(e -> {
                assertThat(e.messageId()).isEqualTo(reply.promptId());
                assertThat(e.price()).isEqualTo(ORDINARY);
                assertThat(e.tokensIn()).isEqualTo(1200);
                assertThat(e.tokensOut()).isEqualTo(300);
            });
        }
    }

    @Test
    void aTurnThatCannotBeCoveredIsRefusedBeforeTheModelCallNamingTheAccountAndTheShortfall() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(10, 10).build();
        ConversationEngine engine = engine(model, PER_OUTPUT_TOKEN);
        CreditAccount user = funded(engine, AccountOwner.user(ORG, "alice"), "4.5");
        Conversation c = conversation(engine);

        assertThatThrownBy(() -> c.send(capped("spend", 5)))
                .isInstanceOfSatisfying(BudgetExceededException.class, e -> {
                    assertThat(e.accountId()).isEqualTo(user.id());
                    assertThat(e.shortfall()).isEqualTo(credits("0.5"));
                    assertThat(e.getMessage()).doesNotContain("spend");
                });
        assertThat(model.callCount()).isZero();
        assertThat(c.messages(PageRequest.first()).items()).isEmpty();
        assertThat(balance(engine, user)).isEqualTo(credits("4.5"));
        assertThat(reserved(engine, user)).isEqualTo(credits("0"));
    }

    @Test
    void aFailedModelCallIsChargedNothingAndFreesItsHold() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(10, 10).build();
        ConversationEngine engine = engine(model, ORDINARY);
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        Conversation c = conversation(engine);
        model.failNext(new RuntimeException("provider down"));

        assertThatThrownBy(() -> c.send(capped("hello", 100))).isInstanceOf(ModelUnavailableException.class);

        assertThat(model.callCount()).isEqualTo(1);
        assertThat(balance(engine, org)).isEqualTo(credits("10"));
        assertThat(reserved(engine, org)).isEqualTo(credits("0"));
        assertThat(charges(engine, org)).isEmpty();
    }

    @Test
    void aCancelledStreamIsChargedForItsInputAndThePartialOutput() throws Exception {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "one two three four five six seven eight")
                .chunkDelay(Duration.ofMillis(100)).build();
        ConversationEngine engine = engine(model, ORDINARY);
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        Conversation c = conversation(engine);
        StreamingTest.Recorder r = new StreamingTest.Recorder() {
            @Override
            public void onDelta(String delta) {
                super.onDelta(delta);
                if (deltas.size() == 2) {
                    c.cancelStream();
                }
            }
        };

        StreamHandle h = c.stream(capped("hello", 100), r);
        assertThat(h.await(Duration.ofSeconds(30))).isTrue();

        Reply reply = r.completions.get(0);
        assertThat(reply.status()).isEqualTo(dev.parley.api.MessageStatus.CANCELLED);
        BigDecimal cost = ORDINARY.cost(reply.usage().tokensIn(), reply.usage().tokensOut());
        assertThat(reply.usage().tokensIn()).isPositive();
        assertThat(reply.usage().tokensOut()).isPositive()
                .as("only the part that streamed: 8 words in all").isLessThan(8);
        assertThat(reply.text()).isNotEqualTo("one two three four five six seven eight");
        assertThat(reply.credits().used()).isEqualTo(cost);
        assertThat(balance(engine, org)).isEqualTo(credits("10").subtract(cost));
        assertThat(reserved(engine, org)).isEqualTo(credits("0"));
    }

    @Test
    void aPolicyBlockIsChargedForWhatTheModelProducedAndAPreBlockForNothing() {
        ScriptedModel model = ScriptedModel.builder().replies("Your key is " + GovernanceTest.SECRET)
                .usage(40, 12).build();
        ConversationEngine engine = engine(store, model, ORDINARY, b -> b.policies(PolicySet.of(
                PolicyRule.block(new GovernanceTest.KeyPolicy()).build())));
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        Conversation c = conversation(engine);

        assertThatThrownBy(() -> c.send(capped("what is my key?", 100)))
                .isInstanceOfSatisfying(PolicyBlockedException.class, e -> assertThat(e.phase()).isEqualTo(PolicyPhase.POST));
        BigDecimal cost = ORDINARY.cost(40, 12);
        assertThat(balance(engine, org)).isEqualTo(credits("10").subtract(cost));
        assertThat(charges(engine, org)).singleElement().satisfies(e -> assertThat(e.amount()).isEqualTo(cost.negate()));

        // A prompt blocked before the call reserves and charges nothing.
        assertThatThrownBy(() -> c.send(capped("store " + GovernanceTest.SECRET, 100)))
                .isInstanceOf(PolicyBlockedException.class);
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(balance(engine, org)).isEqualTo(credits("10").subtract(cost));
        assertThat(reserved(engine, org)).isEqualTo(credits("0"));
    }

    @Test
    void aStreamADuringPolicyStopsIsChargedForTheInputAndWhatTheModelStreamed() throws Exception {
        String reply = "Here it is: " + GovernanceTest.SECRET + " and some more words after it";
        ScriptedModel model = ScriptedModel.builder().replies(reply).build();
        ConversationEngine engine = engine(store, model, ORDINARY, b -> b.policies(PolicySet.of(
                PolicyRule.block(new GovernanceTest.KeyPolicy()).phases(PolicyPhase.DURING).build())));
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        Conversation c = conversation(engine);
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        assertThat(c.stream(capped("what is my key?", 100), r).await(Duration.ofSeconds(30))).isTrue();

        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(charges(engine, org)).singleElement().satisfies(e -> {
            assertThat(e.tokensIn()).isPositive();
            assertThat(e.tokensOut()).as("what the model streamed").isPositive();
            assertThat(e.amount()).isEqualTo(ORDINARY.cost(e.tokensIn(), e.tokensOut()).negate());
        });
        assertThat(balance(engine, org)).isLessThan(credits("10"));
        assertThat(reserved(engine, org)).isEqualTo(credits("0"));
    }

    @Test
    void aReplayCarriesTheOriginalChargeAndIsNotChargedAgain() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(100, 100).build();
        ConversationEngine engine = engine(model, ORDINARY);
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        Conversation c = conversation(engine);
        Prompt prompt = Prompt.text("hello").id("m-1")
                .modelParameters(ModelParameters.builder().maxOutputTokens(100).build()).build();

        Reply first = c.send(prompt);
        engine.credits().setPrice(EngineFixture.MODEL, ModelPrice.perThousand("9", "9"));
        Reply again = c.send(prompt);

        assertThat(again.replayed()).isTrue();
        assertThat(again.credits()).isEqualTo(first.credits());
        assertThat(first.credits().used()).isEqualTo(credits("0.2"));
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(balance(engine, org)).isEqualTo(credits("9.8"));
        assertThat(charges(engine, org)).hasSize(1);
    }

    @Test
    void aHoldLeftByAnEngineThatStoppedExpiresAfterItsLeaseAndFreesItsCredits() throws Exception {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(1, 5).build();
        ConversationEngine engine = engine(store, model, PER_OUTPUT_TOKEN,
                b -> b.timeouts(dev.parley.api.Timeouts.builder().claimLease(Duration.ofMillis(300)).build()));
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "5");
        Conversation c = conversation(engine);
        // What an engine that died mid-turn leaves: a hold of all 5 credits, never renewed or released.
        ((CreditLedger) store).reserve(new HoldRequest("dead-engine-hold", c.id(), "m-dead",
                List.of(AccountOwner.organization(ORG)), EngineFixture.MODEL, 0, 5, java.time.Instant.now(),
                Duration.ofMillis(500)));
        assertThatThrownBy(() -> c.send(capped("spend", 5))).isInstanceOf(BudgetExceededException.class);

        Thread.sleep(700);

        assertThat(reserved(engine, org)).isEqualTo(credits("0"));
        Reply reply = c.send(capped("spend", 5));
        assertThat(reply.credits().used()).isEqualTo(credits("5"));
        assertThat(balance(engine, org)).isEqualTo(credits("0"));
    }

    @Test
    void aLongTurnRenewsItsHoldSoThatItOutlivesTheLease() throws Exception {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(1, 5)
                .latency(Duration.ofMillis(1200)).build();
        ConversationEngine engine = engine(store, model, PER_OUTPUT_TOKEN,
                b -> b.timeouts(dev.parley.api.Timeouts.builder().claimLease(Duration.ofMillis(300)).build()));
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "9");
        Conversation slow = conversation(engine);
        Conversation other = conversation(engine);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<Reply> running = pool.submit(() -> slow.send(capped("slow", 5)));
            Thread.sleep(900); // three leases: the hold is still there, renewed
            assertThat(reserved(engine, org)).isEqualTo(credits("5"));
            assertThatThrownBy(() -> other.send(capped("spend", 5))).isInstanceOf(BudgetExceededException.class);
            assertThat(running.get(30, TimeUnit.SECONDS).credits().used()).isEqualTo(credits("5"));
        } finally {
            pool.shutdownNow();
        }
        assertThat(balance(engine, org)).isEqualTo(credits("4"));
    }

    @Test
    void aMeteredTurnThatSetsNoMaximumIsCappedAtWhatItReservedAndAnUnmeteredOneIsLeftAlone() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "an answer").usage(10, 10).build();
        ConversationEngine engine = engine(model, ORDINARY);
        Conversation c = conversation(engine);

        Reply unmetered = c.send(Prompt.text("hello").build());
        assertThat(unmetered.credits()).isEqualTo(Credits.unmetered());
        assertThat(model.lastRequest().parameters().maxOutputTokens()).isEmpty();

        funded(engine, AccountOwner.workspace(ORG, WS), "100");
        Reply metered = c.send(Prompt.text("hello again").build());
        assertThat(metered.credits().metered()).isTrue();
        assertThat(model.lastRequest().parameters().maxOutputTokens()).hasValue(BudgetStage.DEFAULT_MAX_OUTPUT_TOKENS);
    }

    @Test
    void badCreditInputIsRefusedNamingTheFieldAndNothingIsStored() {
        ConversationEngine engine = engine(ScriptedModel.echo(), ORDINARY);
        CreditAccounts credits = engine.credits();
        CreditAccount org = funded(engine, AccountOwner.organization(ORG), "10");
        AtomicInteger checked = new AtomicInteger();
        record Bad(String field, Runnable call) {
        }
        List<Bad> bad = List.of(
                new Bad("perThousandInput", () -> ModelPrice.perThousand("-1", "1")),
                new Bad("perThousandOutput", () -> ModelPrice.perThousand("1", "one")),
                new Bad("perThousandInput", () -> ModelPrice.perThousand("0.0000001", "1")),
                new Bad("perThousandOutput", () -> ModelPrice.perThousand("1", "1e3")),
                new Bad("perRequest", () -> ModelPrice.perThousand("1", "1").plusPerRequest(" ")),
                new Bad("perThousandInput", () -> ModelPrice.perThousand("10000000", "1")),
                new Bad("model", () -> credits.setPrice("no-such-model", ORDINARY)),
                new Bad("model", () -> credits.setPrice("bad\u0000model", ORDINARY)),
                new Bad("price", () -> credits.setPrice(EngineFixture.MODEL, null)),
                new Bad("amount", () -> credits.topUp(org.id(), BigDecimal.ZERO, "nothing")),
                new Bad("amount", () -> credits.topUp(org.id(), new BigDecimal("-1"), "negative")),
                new Bad("amount", () -> credits.topUp(org.id(), new BigDecimal("0.0000000001"), "too fine")),
                new Bad("amount", () -> credits.topUp(org.id(), null, "none")),
                new Bad("amount", () -> credits.adjust(org.id(), BigDecimal.ZERO, "nothing")),
                new Bad("amount", () -> credits.adjust(org.id(), new BigDecimal("-10.5"), "below zero")),
                new Bad("reason", () -> credits.topUp(org.id(), BigDecimal.ONE, " ")),
                new Bad("reason", () -> credits.topUp(org.id(), BigDecimal.ONE, "line\nbreak")),
                new Bad("accountId", () -> credits.topUp("no-such-account", BigDecimal.ONE, "who")),
                new Bad("accountId", () -> credits.topUp("x'; DROP TABLE parley_credit_account; --", BigDecimal.ONE, "sql")),
                new Bad("accountId", () -> credits.ledger("no-such-account", PageRequest.first())),
                new Bad("owner", () -> credits.open(AccountOwner.organization(ORG))),
                new Bad("terms", () -> credits.setTerms(org.id(), null)),
                new Bad("accountId", () -> credits.setTerms("no-such-account", AccountTerms.NONE)),
                new Bad("allowance", () -> credits.setTerms(org.id(),
                        AccountTerms.every(CreditPeriod.monthly()).topUp("1000000000001"))),
                new Bad("limit", () -> credits.setTerms(org.id(), AccountTerms.NONE.limit(SpendLimit.hard("1000000000001")))),
                new Bad("period", () -> credits.setTerms(org.id(),
                        AccountTerms.every(CreditPeriod.parse("every month")))),
                new Bad("owner", () -> credits.open(null)),
                new Bad("ownerId", () -> AccountOwner.workspace(ORG, " ")));
        for (Bad b : bad) {
            assertThatThrownBy(b.call()::run).as(b.field()).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo(b.field()));
            checked.incrementAndGet();
        }
        assertThat(checked).hasValue(bad.size());
        assertThat(balance(engine, org)).isEqualTo(credits("10"));
        assertThat(credits.ledger(org.id(), PageRequest.first()).totalElements()).isEqualTo(1);
        assertThat(credits.price(EngineFixture.MODEL)).contains(ORDINARY);
        assertThat(credits.account(org.id()).orElseThrow().terms()).isEqualTo(AccountTerms.NONE);
    }

    @Test
    void aHardLimitRefusesATurnBeforeTheModelCallAndASoftLimitIsReportedToTheListenerWithoutStoppingIt() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "five tokens of reply").usage(7, 5).build();
        List<String> reached = java.util.Collections.synchronizedList(new ArrayList<>());
        ConversationEngine engine = engine(store, model, PER_OUTPUT_TOKEN, b -> b.eventListener(
                new dev.parley.api.spi.EngineListener() {
                    @Override
                    public void softLimitReached(TurnContext turn, String accountId) {
                        reached.add(accountId + "@" + turn.messageId());
                    }
                }));
        CreditAccount workspace = funded(engine, AccountOwner.workspace(ORG, WS), "100");
        CreditAccount user = funded(engine, AccountOwner.user(ORG, "alice"), "100");
        engine.credits().setTerms(workspace.id(), AccountTerms.every(CreditPeriod.monthly())
                .limit(SpendLimit.soft("8")));
        engine.credits().setTerms(user.id(), AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.hard("12")));
        Conversation c = conversation(engine);

        Reply first = c.send(capped("first", 5)); // reserves 5: below the soft 8
        Reply second = c.send(capped("second", 5)); // 5 spent + 5: reaches the soft 8, refuses nothing
        assertThat(first.credits().used()).isEqualTo(credits("5"));
        assertThat(second.credits().used()).isEqualTo(credits("5"));
        assertThat(reached).containsExactly(workspace.id() + "@" + second.promptId());

        // The user may spend 12 a month: 10 spent, and a turn reserving 5 is 3 short, refused before the model call.
        assertThatThrownBy(() -> c.send(capped("third", 5)))
                .isInstanceOfSatisfying(BudgetExceededException.class, e -> {
                    assertThat(e.accountId()).isEqualTo(user.id());
                    assertThat(e.shortfall()).isEqualTo(credits("3"));
                });
        assertThat(model.callCount()).isEqualTo(2);
        assertThat(balance(engine, user)).isEqualTo(credits("90"));
        CreditAccount after = engine.credits().account(user.id()).orElseThrow();
        assertThat(after.spent()).isEqualTo(credits("10"));
        assertThat(after.available()).isEqualTo(credits("2"));
        assertThat(engine.credits().account(workspace.id()).orElseThrow().limitReached()).isTrue();
    }

    @Test
    void aTopUpRetriedWithItsRequestIdAddsCreditsOnce() {
        ConversationEngine engine = engine(ScriptedModel.echo(), ORDINARY);
        CreditAccounts credits = engine.credits();
        CreditAccount org = credits.open(AccountOwner.organization(ORG));

        LedgerEntry first = credits.topUp(org.id(), new BigDecimal("100"), "payment 991", "pay-991");
        LedgerEntry retried = credits.topUp(org.id(), new BigDecimal("100"), "payment 991", "pay-991");

        assertThat(retried).isEqualTo(first);
        assertThat(first.id()).isEqualTo("pay-991");
        assertThat(balance(engine, org)).isEqualTo(credits("100"));
        assertThatThrownBy(() -> credits.topUp(org.id(), new BigDecimal("5"), "payment 991", "pay-991"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("requestId"));
        assertThatThrownBy(() -> credits.adjust(org.id(), new BigDecimal("-1"), "fix", " "))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("requestId"));
        assertThat(balance(engine, org)).isEqualTo(credits("100"));
    }

    @Test
    void aPriceSetInCodeIsStoredOnceAndARunTimeChangeIsKeptAcrossARestart() {
        ConversationEngine first = engine(ScriptedModel.echo(), ORDINARY);
        first.credits().setPrice(EngineFixture.MODEL, ModelPrice.perThousand("2", "3"));
        first.close();
        engines.remove(first);

        ConversationEngine restarted = engine(sameData(store), ScriptedModel.echo(), ORDINARY, b -> b);
        assertThat(restarted.credits().price(EngineFixture.MODEL)).contains(ModelPrice.perThousand("2", "3"));
    }
}
