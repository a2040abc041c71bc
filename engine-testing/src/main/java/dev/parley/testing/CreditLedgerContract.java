package dev.parley.testing;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.CreditPeriod;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.credits.SpendLimit;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.CreditLedger;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The behaviour every store that is a {@link CreditLedger} must have. A store's test extends this class and says
 * how to open one; each test works in an organization of its own, so a store may be shared between tests.
 *
 * <ul>
 *   <li>Prices: put, replaced, or kept when put only if absent; amounts read back equal.</li>
 *   <li>Accounts: one per owner, opened at zero; a second for the same owner is refused naming {@code owner}.</li>
 *   <li>Ledger: a top-up or adjustment changes the balance by its amount, in one step, and the balance always equals
 *       the sum of the ledger; an adjustment below zero or below what live holds reserve is refused naming
 *       {@code amount}, an unknown account naming {@code accountId}; nothing is stored then. A post repeated under
 *       its entry id returns the first entry and changes nothing; another change under that id is refused naming
 *       {@code entryId}. Entries are listed
 *       newest first in the page envelope.</li>
 *   <li>Holds: all accounts or none; a short account is named with its exact shortfall; a hold whose lease ran out
 *       counts no more, and cannot be renewed; a released hold frees its credits.</li>
 *   <li>Charges: a commit with a charge debits its real cost from every account of its hold, in the turn's own
 *       transaction, records a CHARGE entry with the model, price and tokens, frees the hold, and returns (and
 *       keeps, for a replay) the reply's {@link Credits}: the cost and the tightest balance left, naming its
 *       account. A refused commit charges nothing. A cost above the hold is charged at most what the account can
 *       pay without going below zero or taking what other holds reserve. A blocked turn's charge is settled too.</li>
 *   <li>Terms: setting them changes no balance and reads the period's spending from the ledger; again, nothing
 *       changes. The first operation after a period's end writes its renewal once, as a RENEWAL entry (a reset
 *       expires unused credits but keeps what live holds reserve; a top-up adds an allowance per period started),
 *       and the balance stays the sum of the ledger. A hard limit refuses what the period cannot spend, naming the
 *       account and the shortfall, until the next period; a soft limit refuses nothing and the hold names the
 *       accounts it reaches.</li>
 *   <li>Concurrency: any number of threads reserving against one balance, or one hard limit, get exactly as many
 *       holds as it covers; a renewal many threads meet is written once.</li>
 *   <li>Exactness: ten thousand charges of 0.00001 credits sum exactly.</li>
 * </ul>
 */
public abstract class CreditLedgerContract {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** The lease of holds and claims in these tests: a minute, sixty ticks. */
    protected static final Duration LEASE = Duration.ofMinutes(1);
    private static final String MODEL = "priced-model";
    /** 1 credit per 1,000 input tokens, 2 per 1,000 output tokens: 1,000 in and 500 out cost 2. */
    private static final ModelPrice PRICE = ModelPrice.perThousand("1", "2");

    protected ConversationStore store;
    protected CreditLedger ledger;
    private String org;
    private final AtomicLong clock = new AtomicLong();

    /** A store to test, which must be a {@link CreditLedger}; called before each test. */
    protected abstract ConversationStore openStore();

    /** Closes what {@link #openStore()} opened; called after each test. Closes the store by default. */
    protected void closeStore(ConversationStore s) {
        s.close();
    }

    /** How many turns {@link #tenThousandChargesOfOneHundredThousandthSumExactly} commits; 10,000 unless a slow store says less. */
    protected int exactnessTurns() {
        return 10_000;
    }

    @BeforeEach
    void open() {
        store = openStore();
        ledger = (CreditLedger) store;
        org = "org-" + UUID.randomUUID();
        ledger.putPrice(MODEL, PRICE, false, tick());
    }

    @AfterEach
    void close() {
        if (store != null) {
            closeStore(store);
        }
    }

    /** A distinct, increasing instant, one second apart. */
    protected Instant tick() {
        return T0.plusSeconds(clock.incrementAndGet());
    }

    private Instant now() {
        return T0.plusSeconds(clock.get());
    }

    private ConversationInfo conversation(String workspace) {
        Instant at = tick();
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), org, workspace, null, "alice",
                Steering.NONE, null, 0, 0, at, at);
        store.insert(c, new AuditEvent("e-" + UUID.randomUUID(), AuditEvent.Type.CONVERSATION_CREATED, c.id(), org,
                workspace, "alice", at, ""));
        return c;
    }

    private CreditAccount account(AccountOwner owner, String balance) {
        CreditAccount a = ledger.openAccount("acct-" + UUID.randomUUID(), owner, tick());
        if (new BigDecimal(balance).signum() > 0) {
            ledger.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal(balance), "opening",
                    tick());
        }
        return ledger.account(a.id(), now()).orElseThrow();
    }

    private List<AccountOwner> owners(String workspace) {
        return List.of(AccountOwner.organization(org), AccountOwner.workspace(org, workspace),
                AccountOwner.user(org, "alice"));
    }

    private HoldRequest request(ConversationInfo c, String promptId, long in, long out, Instant at) {
        return new HoldRequest("h-" + UUID.randomUUID(), c.id(), promptId, owners(c.workspaceId()), MODEL, in, out, at,
                LEASE);
    }

    private BigDecimal balance(CreditAccount a) {
        return ledger.account(a.id(), now()).orElseThrow().balance();
    }

    private BigDecimal reserved(CreditAccount a, Instant at) {
        return ledger.account(a.id(), at).orElseThrow().reserved();
    }

    private BigDecimal ledgerSum(CreditAccount a) {
        BigDecimal sum = BigDecimal.ZERO;
        for (int page = 1; ; page++) {
            var p = ledger.ledger(a.id(), PageRequest.of(page, 100));
            for (LedgerEntry e : p.items()) {
                sum = sum.add(e.amount());
            }
            if (page >= p.totalPages()) {
                return sum;
            }
        }
    }

    private static BigDecimal credits(String value) {
        return new BigDecimal(value).setScale(Credits.SCALE);
    }

    /** Commits a turn under a claim, charging {@code in} and {@code out} tokens against {@code hold}. */
    private Message commit(ConversationInfo c, String promptId, CreditHold hold, long in, long out) {
        return commitAt(c, promptId, hold, in, out, tick());
    }

    private Message commitAt(ConversationInfo c, String promptId, CreditHold hold, long in, long out, Instant at) {
        String token = ((TurnClaim.Claimed) store.claimTurn(c.id(), promptId, "fp-" + promptId, at, LEASE)).token();
        return store.commitTurn(record(c, promptId, at, token, in, out).withCharge(new TurnCharge(hold, in, out)));
    }

    private static TurnRecord record(ConversationInfo c, String promptId, Instant at, String token, long in, long out) {
        Usage usage = new Usage(in, out);
        Message user = new Message(promptId, c.id(), 0, Role.USER, "question", 1, null, null, null,
                MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r-" + promptId, c.id(), 0, Role.ASSISTANT, "answer", 1, MODEL, null, null,
                MessageStatus.COMPLETE, at, usage);
        return new TurnRecord(c.id(), promptId, user, reply, usage, true, at, token);
    }

    // --- prices ---

    @Test
    void pricesArePutReplacedAndKeptWhenPutOnlyIfAbsent() {
        String model = "m-" + UUID.randomUUID();
        assertThat(ledger.price(model)).isEmpty();
        assertThat(ledger.putPrice(model, ModelPrice.perThousand("0.15", "0.6"), true, tick())).isTrue();
        assertThat(ledger.putPrice(model, ModelPrice.perThousand("9", "9"), true, tick())).isFalse();
        assertThat(ledger.price(model)).contains(ModelPrice.perThousand("0.150", "0.600000"));
        assertThat(ledger.putPrice(model, ModelPrice.perThousand("0.000001", "999999.999999").plusPerRequest("0.5"),
                false, tick())).isTrue();
        assertThat(ledger.price(model)).contains(
                ModelPrice.perThousand("0.000001", "999999.999999").plusPerRequest("0.5"));
        assertThat(ledger.prices()).containsEntry(model,
                ModelPrice.perThousand("0.000001", "999999.999999").plusPerRequest("0.5"));
    }

    // --- accounts and the ledger ---

    @Test
    void anOwnerHasOneAccountOpenedAtZero() {
        AccountOwner owner = AccountOwner.workspace(org, "ws-1");
        CreditAccount a = ledger.openAccount("acct-" + UUID.randomUUID(), owner, tick());
        assertThat(a.balance()).isEqualTo(credits("0"));
        assertThat(a.owner()).isEqualTo(owner);
        assertThat(ledger.account(owner, now())).map(CreditAccount::id).contains(a.id());
        assertThatThrownBy(() -> ledger.openAccount("acct-" + UUID.randomUUID(), owner, tick()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("owner"));
        assertThat(ledger.account(AccountOwner.workspace(org, "ws-2"), now())).isEmpty();
    }

    @Test
    void topUpsAndAdjustmentsAreLedgerEntriesAndTheBalanceIsTheirSum() {
        CreditAccount a = account(AccountOwner.organization(org), "100.5");
        LedgerEntry down = ledger.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.ADJUSTMENT,
                new BigDecimal("-0.000000001"), "rounding fix", tick());
        assertThat(down.balanceAfter()).isEqualTo(credits("100.499999999"));
        assertThat(balance(a)).isEqualTo(credits("100.499999999")).isEqualTo(ledgerSum(a));

        var page = ledger.ledger(a.id(), PageRequest.of(1, 1));
        assertThat(page.totalElements()).isEqualTo(2);
        assertThat(page.totalPages()).isEqualTo(2);
        assertThat(page.items()).singleElement().satisfies(e -> {
            assertThat(e.id()).isEqualTo(down.id());
            assertThat(e.kind()).isEqualTo(LedgerEntry.Kind.ADJUSTMENT);
            assertThat(e.reason()).isEqualTo("rounding fix");
        });
        assertThat(ledger.ledger(a.id(), PageRequest.of(2, 1)).items()).singleElement()
                .satisfies(e -> assertThat(e.kind()).isEqualTo(LedgerEntry.Kind.TOP_UP));
    }

    @Test
    void anAdjustmentBelowZeroOrOfAnUnknownAccountIsRefusedAndNothingIsStored() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        assertThatThrownBy(() -> ledger.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.ADJUSTMENT,
                new BigDecimal("-10.000000001"), "too much", tick()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("amount"));
        assertThatThrownBy(() -> ledger.post("le-" + UUID.randomUUID(), "acct-missing-" + UUID.randomUUID(),
                LedgerEntry.Kind.TOP_UP, BigDecimal.ONE, "nobody", tick()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("accountId"));
        assertThat(balance(a)).isEqualTo(credits("10"));
        assertThat(ledger.ledger(a.id(), PageRequest.first()).totalElements()).isEqualTo(1);
    }

    @Test
    void aPostRepeatedUnderItsIdReturnsTheFirstEntryAndAnotherChangeUnderItIsRefused() {
        CreditAccount a = account(AccountOwner.organization(org), "0");
        CreditAccount other = account(AccountOwner.workspace(org, "ws-1"), "0");
        String id = "le-" + UUID.randomUUID();
        LedgerEntry first = ledger.post(id, a.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal("25"), "invoice 17", tick());

        LedgerEntry again = ledger.post(id, a.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal("25.000"), "invoice 17",
                tick());

        assertThat(again).isEqualTo(first);
        assertThat(balance(a)).isEqualTo(credits("25"));
        assertThat(ledger.ledger(a.id(), PageRequest.first()).totalElements()).isEqualTo(1);
        for (Runnable changed : List.<Runnable>of(
                () -> ledger.post(id, a.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal("26"), "invoice 17", tick()),
                () -> ledger.post(id, a.id(), LedgerEntry.Kind.ADJUSTMENT, new BigDecimal("25"), "invoice 17", tick()),
                () -> ledger.post(id, other.id(), LedgerEntry.Kind.TOP_UP, new BigDecimal("25"), "invoice 17", tick()))) {
            assertThatThrownBy(changed::run).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo("entryId"));
        }
        assertThat(balance(a)).isEqualTo(credits("25"));
        assertThat(balance(other)).isEqualTo(credits("0"));
        assertThat(ledger.ledger(other.id(), PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void anAdjustmentMayNotTakeWhatALiveHoldReserved() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ConversationInfo c = conversation("ws-1");
        ledger.reserve(request(c, "m-1", 3000, 2000, tick())); // 3 + 4 = 7
        assertThatThrownBy(() -> ledger.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.ADJUSTMENT,
                new BigDecimal("-3.5"), "would overdraw the hold", now()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("amount"));
        ledger.post("le-" + UUID.randomUUID(), a.id(), LedgerEntry.Kind.ADJUSTMENT, new BigDecimal("-3"), "fits",
                now());
        assertThat(balance(a)).isEqualTo(credits("7"));
    }

    // --- holds ---

    @Test
    void aHoldReservesOnEveryAccountOrOnNone() {
        CreditAccount orgAccount = account(AccountOwner.organization(org), "100");
        CreditAccount ws = account(AccountOwner.workspace(org, "ws-1"), "1.5");
        ConversationInfo c = conversation("ws-1");
        Instant at = tick();

        // 1,000 in and 500 out cost 2: the workspace is 0.5 short, and the organization keeps nothing reserved.
        assertThatThrownBy(() -> ledger.reserve(request(c, "m-1", 1000, 500, at)))
                .isInstanceOfSatisfying(BudgetExceededException.class, e -> {
                    assertThat(e.accountId()).isEqualTo(ws.id());
                    assertThat(e.shortfall()).isEqualTo(credits("0.5"));
                });
        assertThat(reserved(orgAccount, at)).isEqualTo(credits("0"));
        assertThat(reserved(ws, at)).isEqualTo(credits("0"));

        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 250, at)); // 1.5
        assertThat(hold.accountIds()).containsExactly(orgAccount.id(), ws.id());
        assertThat(hold.amount()).isEqualTo(credits("1.5"));
        assertThat(hold.price()).isEqualTo(PRICE);
        assertThat(reserved(orgAccount, at)).isEqualTo(credits("1.5"));
        assertThat(ledger.account(ws.id(), at).orElseThrow().available()).isEqualTo(credits("0"));
        assertThat(balance(ws)).as("a hold charges nothing").isEqualTo(credits("1.5"));
    }

    @Test
    void aTurnNoAccountAppliesToGetsAnUnmeteredHoldAndAnUnpricedModelIsRefusedWhereAccountsApply() {
        ConversationInfo c = conversation("ws-1");
        CreditHold none = ledger.reserve(request(c, "m-1", 1000, 500, tick()));
        assertThat(none.metered()).isFalse();
        assertThat(none.amount()).isEqualTo(credits("0"));

        account(AccountOwner.user(org, "alice"), "5");
        assertThatThrownBy(() -> ledger.reserve(new HoldRequest("h-" + UUID.randomUUID(), c.id(), "m-2",
                owners(c.workspaceId()), "unpriced-" + UUID.randomUUID(), 10, 10, tick(), LEASE)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("model"));
    }

    @Test
    void aHoldLapsesAfterItsLeaseUnlessRenewedAndAReleasedHoldFreesItsCredits() {
        CreditAccount a = account(AccountOwner.organization(org), "2");
        ConversationInfo c = conversation("ws-1");
        Instant at = tick();
        CreditHold first = ledger.reserve(request(c, "m-1", 1000, 500, at)); // all 2
        assertThatThrownBy(() -> ledger.reserve(request(c, "m-2", 1, 0, at.plusSeconds(30))))
                .isInstanceOf(BudgetExceededException.class);

        assertThat(ledger.renewHold(first.id(), at.plusSeconds(50), LEASE)).isTrue(); // now until +110 s
        assertThatThrownBy(() -> ledger.reserve(request(c, "m-2", 1, 0, at.plusSeconds(100))))
                .isInstanceOf(BudgetExceededException.class);
        // Past its lease the hold counts no more: an engine that died leaves nothing reserved for good.
        CreditHold second = ledger.reserve(request(c, "m-2", 1000, 500, at.plusSeconds(111)));
        assertThat(ledger.renewHold(first.id(), at.plusSeconds(112), LEASE)).isFalse();
        assertThat(reserved(a, at.plusSeconds(112))).isEqualTo(credits("2"));

        ledger.releaseHold(second.id());
        ledger.releaseHold(second.id()); // a second release does nothing
        assertThat(reserved(a, at.plusSeconds(112))).isEqualTo(credits("0"));
        assertThat(balance(a)).isEqualTo(credits("2"));
    }

    // --- charges ---

    @Test
    void aCommitChargesItsRealCostOnEveryAccountFreesTheHoldAndKeepsTheCreditsForAReplay() {
        CreditAccount orgAccount = account(AccountOwner.organization(org), "100");
        CreditAccount ws = account(AccountOwner.workspace(org, "ws-1"), "10");
        CreditAccount user = account(AccountOwner.user(org, "alice"), "50");
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 4000, tick())); // 1 + 8 = 9

        Message reply = commit(c, "m-1", hold, 1000, 123); // 1 + 0.246
        Credits expected = Credits.charged(credits("1.246"), credits("8.754"), ws.id());

        assertThat(reply.credits()).isEqualTo(expected);
        assertThat(balance(orgAccount)).isEqualTo(credits("98.754")).isEqualTo(ledgerSum(orgAccount));
        assertThat(balance(ws)).isEqualTo(credits("8.754")).isEqualTo(ledgerSum(ws));
        assertThat(balance(user)).isEqualTo(credits("48.754")).isEqualTo(ledgerSum(user));
        for (CreditAccount a : List.of(orgAccount, ws, user)) {
            assertThat(reserved(a, now())).isEqualTo(credits("0"));
            assertThat(ledger.ledger(a.id(), PageRequest.of(1, 1)).items()).singleElement().satisfies(e -> {
                assertThat(e.kind()).isEqualTo(LedgerEntry.Kind.CHARGE);
                assertThat(e.amount()).isEqualTo(credits("-1.246"));
                assertThat(e.conversationId()).isEqualTo(c.id());
                assertThat(e.messageId()).isEqualTo("m-1");
                assertThat(e.model()).isEqualTo(MODEL);
                assertThat(e.price()).isEqualTo(PRICE);
                assertThat(e.tokensIn()).isEqualTo(1000);
                assertThat(e.tokensOut()).isEqualTo(123);
            });
        }
        // A later price change rewrites no history, and the replay carries the original charge.
        ledger.putPrice(MODEL, ModelPrice.perThousand("5", "5"), false, tick());
        TurnClaim replay = store.claimTurn(c.id(), "m-1", "fp-m-1", tick(), LEASE);
        assertThat(replay).isInstanceOfSatisfying(TurnClaim.Completed.class,
                done -> assertThat(done.reply().credits()).isEqualTo(expected));
        assertThat(ledger.ledger(ws.id(), PageRequest.of(1, 1)).items().get(0).price()).isEqualTo(PRICE);
    }

    @Test
    void aRefusedCommitChargesNothingAndKeepsTheHoldForTheEngineToRelease() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 500, tick()));
        Instant at = tick();
        String token = ((TurnClaim.Claimed) store.claimTurn(c.id(), "m-1", "fp", at, LEASE)).token();
        TurnRecord stale = record(c, "m-1", at, token + "-not-it", 1000, 500)
                .withCharge(new TurnCharge(hold, 1000, 500));

        assertThatThrownBy(() -> store.commitTurn(stale)).isInstanceOf(ConversationLockedException.class);

        assertThat(balance(a)).isEqualTo(credits("10"));
        assertThat(ledger.ledger(a.id(), PageRequest.first()).totalElements()).isEqualTo(1);
        assertThat(reserved(a, now())).isEqualTo(credits("2"));
    }

    @Test
    void aCostAboveTheHoldIsChargedAtMostWhatTheAccountCanPayBesideOtherHolds() {
        CreditAccount a = account(AccountOwner.organization(org), "5");
        ConversationInfo c = conversation("ws-1");
        CreditHold small = ledger.reserve(request(c, "m-1", 1000, 0, tick())); // 1
        CreditHold other = ledger.reserve(request(c, "m-2", 3000, 0, now())); // 3, one credit free beside them

        // The provider counted far more input than the estimate: 10 credits, of which 2 can be paid.
        Message reply = commit(c, "m-1", small, 10_000, 0);

        assertThat(reply.credits().used()).isEqualTo(credits("2"));
        assertThat(reply.credits().remaining()).isEqualTo(credits("3"));
        assertThat(balance(a)).isEqualTo(credits("3")).isEqualTo(ledgerSum(a));
        assertThat(reserved(a, now())).as("the other turn's hold is intact").isEqualTo(credits("3"));
        Message second = commit(c, "m-2", other, 3000, 0);
        assertThat(second.credits().used()).isEqualTo(credits("3"));
        assertThat(balance(a)).isEqualTo(credits("0"));
    }

    @Test
    void aBlockedTurnsChargeIsSettledWithIt() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 1000, tick()));
        Instant at = tick();
        String token = ((TurnClaim.Claimed) store.claimTurn(c.id(), "m-1", "fp", at, LEASE)).token();

        store.commitTurn(TurnRecord.blocked(c.id(), "m-1", new Usage(1000, 200), at, token,
                new PolicyBlock("keys", PolicyPhase.POST, false), List.of(), List.of())
                .withCharge(new TurnCharge(hold, 1000, 200)));

        assertThat(balance(a)).isEqualTo(credits("8.6"));
        assertThat(reserved(a, now())).isEqualTo(credits("0"));
    }

    // --- terms: periods, renewals and limits ---

    private static final Instant FEB_1 = Instant.parse("2026-02-01T00:00:00Z");

    private List<LedgerEntry> entries(CreditAccount a, LedgerEntry.Kind kind) {
        List<LedgerEntry> out = new ArrayList<>();
        for (int page = 1; ; page++) {
            var p = ledger.ledger(a.id(), PageRequest.of(page, 100));
            p.items().stream().filter(e -> e.kind() == kind).forEach(out::add);
            if (page >= p.totalPages()) {
                return out;
            }
        }
    }

    @Test
    void termsOfAnUnknownAccountAreRefusedNamingIt() {
        assertThatThrownBy(() -> ledger.setTerms("acct-missing-" + UUID.randomUUID(),
                AccountTerms.every(CreditPeriod.monthly()), tick()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("accountId"));
    }

    @Test
    void settingTermsChangesNoBalanceReadsThePeriodsSpendingFromTheLedgerAndAgainChangesNothing() {
        CreditAccount a = account(AccountOwner.organization(org), "100");
        ConversationInfo c = conversation("ws-1");
        commit(c, "m-1", ledger.reserve(request(c, "m-1", 1000, 500, tick())), 1000, 500); // 2

        AccountTerms terms = AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.soft("10"));
        CreditAccount set = ledger.setTerms(a.id(), terms, tick());

        assertThat(set.balance()).isEqualTo(credits("98"));
        assertThat(set.terms()).isEqualTo(terms);
        assertThat(set.spent()).isEqualTo(credits("2"));
        assertThat(set.periodStart()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
        assertThat(set.periodEnd()).isEqualTo(FEB_1);
        assertThat(ledger.setTerms(a.id(), terms, tick())).isEqualTo(ledger.account(a.id(), now()).orElseThrow())
                .satisfies(again -> assertThat(again.spent()).isEqualTo(credits("2")));
        assertThat(ledger.ledger(a.id(), PageRequest.first()).totalElements()).isEqualTo(2);

        // Without a period, a limit counts what the account ever spent.
        CreditAccount lifetime = ledger.setTerms(a.id(), AccountTerms.NONE.limit(SpendLimit.hard("3")), tick());
        assertThat(lifetime.periodEnd()).isNull();
        assertThat(lifetime.spent()).isEqualTo(credits("2"));
        assertThat(lifetime.available()).isEqualTo(credits("1"));
    }

    @Test
    void aMonthlyResetExpiresUnusedCreditsOnceWithARenewalEntryAndTheBalanceStaysTheSumOfTheLedger() {
        CreditAccount a = account(AccountOwner.organization(org), "100");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).resetTo("40"), tick());
        ConversationInfo c = conversation("ws-1");
        commit(c, "m-1", ledger.reserve(request(c, "m-1", 1000, 500, tick())), 1000, 500); // 2
        assertThat(ledger.account(a.id(), now()).orElseThrow().spent()).isEqualTo(credits("2"));

        CreditAccount february = ledger.account(a.id(), FEB_1).orElseThrow();

        assertThat(february.balance()).isEqualTo(credits("40")).isEqualTo(ledgerSum(a));
        assertThat(february.spent()).isEqualTo(credits("0"));
        assertThat(february.periodStart()).isEqualTo(FEB_1);
        assertThat(february.periodEnd()).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).singleElement().satisfies(e -> {
            assertThat(e.amount()).isEqualTo(credits("-58"));
            assertThat(e.balanceAfter()).isEqualTo(credits("40"));
            assertThat(e.reason()).isEqualTo("renewal");
            assertThat(e.at()).isEqualTo(FEB_1);
        });
        assertThat(ledger.account(a.id(), FEB_1.plusSeconds(86_400)).orElseThrow().balance()).isEqualTo(credits("40"));
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).as("renewed once a period").hasSize(1);
    }

    @Test
    void aTopUpRenewalAddsTheAllowanceForEveryPeriodThatStarted() {
        CreditAccount a = account(AccountOwner.organization(org), "5");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).topUp("10"), tick());

        // Untouched through February and March: April's first read adds three allowances, in one entry.
        CreditAccount april = ledger.account(a.id(), Instant.parse("2026-04-15T12:00:00Z")).orElseThrow();

        assertThat(april.balance()).isEqualTo(credits("35")).isEqualTo(ledgerSum(a));
        assertThat(april.periodStart()).isEqualTo(Instant.parse("2026-04-01T00:00:00Z"));
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualTo(credits("30")));
    }

    @Test
    void aResetKeepsWhatLiveHoldsReserveSoThatATurnInFlightCanPay() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).resetTo("5"), tick());
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 3000, 2000, FEB_1.minusSeconds(30))); // 7

        CreditAccount february = ledger.account(a.id(), FEB_1.plusSeconds(10)).orElseThrow();
        assertThat(february.balance()).isEqualTo(credits("12"));
        assertThat(february.reserved()).isEqualTo(credits("7"));
        assertThat(february.available()).isEqualTo(credits("5"));

        Message reply = commitAt(c, "m-1", hold, 1000, 500, FEB_1.plusSeconds(20)); // 2
        assertThat(reply.credits().used()).isEqualTo(credits("2"));
        CreditAccount after = ledger.account(a.id(), FEB_1.plusSeconds(21)).orElseThrow();
        assertThat(after.balance()).isEqualTo(credits("10")).isEqualTo(ledgerSum(a));
        assertThat(after.spent()).as("a turn counts in the period it is charged in").isEqualTo(credits("2"));
    }

    @Test
    void aResetThatTheTurnsOwnChargeMeetsFirstKeepsThatTurnsHoldToo() {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).resetTo("5"), tick());
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 3000, 2000, FEB_1.minusSeconds(30))); // 7

        // No read in between: the commit itself writes February's renewal.
        Message reply = commitAt(c, "m-1", hold, 1000, 500, FEB_1.plusSeconds(20)); // 2

        assertThat(reply.credits().used()).isEqualTo(credits("2"));
        assertThat(reply.credits().remaining()).isEqualTo(credits("10"));
        assertThat(balance(a)).isEqualTo(credits("10")).isEqualTo(ledgerSum(a));
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).singleElement()
                .satisfies(e -> assertThat(e.balanceAfter()).isEqualTo(credits("12")));
    }

    @Test
    void anEngineWhoseClockIsBehindNeitherMovesAPeriodBackNorGetsItsAllowanceTwice() {
        CreditAccount a = account(AccountOwner.organization(org), "1");
        AccountTerms terms = AccountTerms.every(CreditPeriod.monthly()).topUp("10");
        ledger.setTerms(a.id(), terms, tick());
        assertThat(ledger.account(a.id(), FEB_1.plusSeconds(2)).orElseThrow().balance()).isEqualTo(credits("11"));
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 500, FEB_1.plusSeconds(3))); // 2

        // Another engine, two seconds behind, still in January by its clock.
        Instant behind = FEB_1.minusSeconds(2);
        assertThat(ledger.setTerms(a.id(), terms, behind).periodStart()).isEqualTo(FEB_1);
        commitAt(c, "m-1", hold, 1000, 500, behind);
        CreditAccount limited = ledger.setTerms(a.id(), terms.limit(SpendLimit.soft("100")), behind);

        assertThat(limited.periodStart()).isEqualTo(FEB_1);
        assertThat(limited.spent()).as("the charge counts in February").isEqualTo(credits("2"));
        assertThat(entries(a, LedgerEntry.Kind.CHARGE)).singleElement()
                .satisfies(e -> assertThat(e.at()).isAfterOrEqualTo(FEB_1));
        assertThat(ledger.account(a.id(), FEB_1.plusSeconds(5)).orElseThrow().balance()).isEqualTo(credits("9"))
                .isEqualTo(ledgerSum(a));
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).as("February renewed once").hasSize(1);
    }

    @Test
    void aCostAboveTheHoldIsChargedAtMostWhatAHardLimitLeaves() {
        CreditAccount a = account(AccountOwner.organization(org), "100");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.hard("5")), tick());
        ConversationInfo c = conversation("ws-1");
        CreditHold hold = ledger.reserve(request(c, "m-1", 1000, 500, tick())); // 2

        Message reply = commit(c, "m-1", hold, 10_000, 0); // 10, of which the limit leaves 5

        assertThat(reply.credits().used()).isEqualTo(credits("5"));
        CreditAccount after = ledger.account(a.id(), now()).orElseThrow();
        assertThat(after.spent()).isEqualTo(credits("5"));
        assertThat(after.balance()).isEqualTo(credits("95")).isEqualTo(ledgerSum(a));
        assertThat(after.available()).isEqualTo(credits("0"));
    }

    @Test
    void aHardLimitRefusesWhatThePeriodCannotSpendUntilTheNextPeriod() {
        CreditAccount a = account(AccountOwner.organization(org), "100");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).limit(SpendLimit.hard("5")), tick());
        ConversationInfo c = conversation("ws-1");
        commit(c, "m-1", ledger.reserve(request(c, "m-1", 1000, 500, tick())), 1000, 500); // 2 spent
        CreditHold live = ledger.reserve(request(c, "m-2", 1000, 0, tick())); // 1 reserved

        assertThatThrownBy(() -> ledger.reserve(request(c, "m-3", 2000, 500, now()))) // 3 more: 1 over the limit
                .isInstanceOfSatisfying(BudgetExceededException.class, e -> {
                    assertThat(e.accountId()).isEqualTo(a.id());
                    assertThat(e.shortfall()).isEqualTo(credits("1"));
                });
        assertThat(ledger.account(a.id(), now()).orElseThrow().available()).isEqualTo(credits("2"));
        ledger.releaseHold(live.id());

        CreditHold february = ledger.reserve(request(c, "m-3", 2000, 1500, FEB_1)); // 5: a new period's whole limit
        assertThat(february.amount()).isEqualTo(credits("5"));
        assertThatThrownBy(() -> ledger.reserve(request(c, "m-4", 1, 0, FEB_1.plusSeconds(1))))
                .isInstanceOf(BudgetExceededException.class);
        assertThat(balance(a)).isEqualTo(credits("98"));
    }

    @Test
    void aSoftLimitRefusesNothingAndTheHoldNamesTheAccountsItReaches() {
        CreditAccount orgAccount = account(AccountOwner.organization(org), "100");
        CreditAccount user = account(AccountOwner.user(org, "alice"), "100");
        ledger.setTerms(user.id(), AccountTerms.NONE.limit(SpendLimit.soft("3")), tick());
        ConversationInfo c = conversation("ws-1");

        CreditHold first = ledger.reserve(request(c, "m-1", 1000, 500, tick())); // 2: below 3
        assertThat(first.softLimitReached()).isEmpty();
        commit(c, "m-1", first, 1000, 500);
        CreditHold second = ledger.reserve(request(c, "m-2", 1000, 500, tick())); // 2 spent + 2: reaches 3
        assertThat(second.softLimitReached()).containsExactly(user.id());
        commit(c, "m-2", second, 1000, 500);

        CreditAccount after = ledger.account(user.id(), now()).orElseThrow();
        assertThat(after.spent()).isEqualTo(credits("4"));
        assertThat(after.limitReached()).isTrue();
        assertThat(after.balance()).isEqualTo(credits("96"));
        assertThat(ledger.account(orgAccount.id(), now()).orElseThrow().limitReached()).isFalse();
    }

    @Test
    void concurrentHoldsUnderAHardLimitGetExactlyAsManyAsItAllows() throws Exception {
        CreditAccount a = account(AccountOwner.organization(org), "1000");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.daily()).limit(SpendLimit.hard("10")), tick());
        ConversationInfo c = conversation("ws-1");
        Instant at = tick();
        assertThat(granted(64, i -> ledger.reserve(request(c, "m-" + i, 250, 0, at)))).isEqualTo(40);
        assertThat(reserved(a, at)).isEqualTo(credits("10"));
    }

    @Test
    void aRenewalManyThreadsMeetAtOnceIsWrittenOnce() throws Exception {
        CreditAccount a = account(AccountOwner.organization(org), "1");
        ledger.setTerms(a.id(), AccountTerms.every(CreditPeriod.monthly()).topUp("10"), tick());
        ConversationInfo c = conversation("ws-1");
        assertThat(granted(32, i -> {
            if (i % 2 == 0) {
                ledger.account(a.id(), FEB_1.plusSeconds(i));
            } else {
                ledger.reserve(request(c, "m-" + i, 100, 0, FEB_1.plusSeconds(i))); // 0.1 each
            }
        })).isEqualTo(32);
        assertThat(entries(a, LedgerEntry.Kind.RENEWAL)).singleElement()
                .satisfies(e -> assertThat(e.amount()).isEqualTo(credits("10")));
        assertThat(ledger.account(a.id(), FEB_1.plusSeconds(40)).orElseThrow().balance()).isEqualTo(credits("11"))
                .isEqualTo(ledgerSum(a));
    }

    /** A call that may be refused with {@link BudgetExceededException}. */
    @FunctionalInterface
    private interface Attempt {
        void run(int i);
    }

    /** Runs {@code calls} attempts from 16 threads at once; how many were not refused. */
    private static int granted(int calls, Attempt attempt) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try {
            for (int i = 0; i < calls; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        attempt.run(n);
                        return true;
                    } catch (BudgetExceededException e) {
                        return false;
                    }
                }));
            }
            start.countDown();
            int granted = 0;
            for (Future<Boolean> f : results) {
                granted += f.get(60, TimeUnit.SECONDS) ? 1 : 0;
            }
            return granted;
        } finally {
            pool.shutdownNow();
        }
    }

    // --- concurrency and exactness ---

    @Test
    void concurrentHoldsOnOneBalanceGetExactlyAsManyAsItCovers() throws Exception {
        CreditAccount a = account(AccountOwner.organization(org), "10");
        ConversationInfo c = conversation("ws-1");
        Instant at = tick();
        // 0.25 each: the balance covers 40 of the 64.
        assertThat(granted(64, i -> ledger.reserve(request(c, "m-" + i, 250, 0, at)))).isEqualTo(40);
        assertThat(reserved(a, at)).isEqualTo(credits("10"));
        assertThat(balance(a)).isEqualTo(credits("10"));
    }

    @Test
    void tenThousandChargesOfOneHundredThousandthSumExactly() {
        String model = "tiny-" + UUID.randomUUID();
        ledger.putPrice(model, ModelPrice.perThousand("0.01", "0"), false, tick()); // one input token: 0.00001
        CreditAccount a = account(AccountOwner.organization(org), "1");
        ConversationInfo c = conversation("ws-1");
        int turns = exactnessTurns();
        Message last = null;
        for (int i = 0; i < turns; i++) {
            String promptId = "m-" + i;
            CreditHold hold = ledger.reserve(new HoldRequest("h-" + UUID.randomUUID(), c.id(), promptId,
                    owners(c.workspaceId()), model, 1, 0, now(), LEASE));
            last = commit(c, promptId, hold, 1, 0);
        }
        BigDecimal spent = new BigDecimal("0.00001").multiply(BigDecimal.valueOf(turns));
        assertThat(balance(a)).isEqualTo(credits("1").subtract(spent)).isEqualTo(ledgerSum(a));
        assertThat(last.credits().remaining()).isEqualTo(credits("1").subtract(spent));
    }
}
