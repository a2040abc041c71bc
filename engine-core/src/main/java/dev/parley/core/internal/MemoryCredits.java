package dev.parley.core.internal;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.spi.CreditLedger;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The credits of the in-memory store: prices, accounts with their ledgers, and live holds, all guarded by this
 * object's monitor, so that every operation is atomic. Times are cut to microseconds, as the JDBC store keeps them.
 * Not API.
 */
public final class MemoryCredits implements CreditLedger {
    private static final BigDecimal ZERO = BigDecimal.ZERO.setScale(Credits.SCALE);
    private static final Comparator<LedgerEntry> NEWEST_FIRST =
            Comparator.comparing(LedgerEntry::at).thenComparing(LedgerEntry::id).reversed();

    private final Map<String, ModelPrice> prices = new LinkedHashMap<>();
    private final Map<String, Account> accounts = new HashMap<>();
    private final Map<AccountOwner, Account> byOwner = new HashMap<>();
    private final Map<String, Hold> holds = new HashMap<>();
    /** Every top-up and adjustment by its id, so that a repeat is answered with the first. */
    private final Map<String, LedgerEntry> posted = new HashMap<>();

    private static final class Account {
        final String id;
        final AccountOwner owner;
        final Instant createdAt;
        BigDecimal balance = ZERO;
        AccountTerms terms = AccountTerms.NONE;
        BigDecimal spent = ZERO;
        Instant periodStart;
        Instant periodEnd;
        final List<LedgerEntry> ledger = new ArrayList<>();

        Account(String id, AccountOwner owner, Instant createdAt) {
            this.id = id;
            this.owner = owner;
            this.createdAt = createdAt;
        }
    }

    private static final class Hold {
        final CreditHold hold;
        Instant expiresAt;

        Hold(CreditHold hold) {
            this.hold = hold;
            this.expiresAt = hold.expiresAt();
        }
    }

    @Override
    public synchronized Optional<ModelPrice> price(String model) {
        return Optional.ofNullable(prices.get(model));
    }

    @Override
    public synchronized Map<String, ModelPrice> prices() {
        return Map.copyOf(prices);
    }

    @Override
    public synchronized boolean putPrice(String model, ModelPrice price, boolean onlyIfAbsent, Instant at) {
        dev.parley.api.internal.Checks.label("model", model, 256);
        java.util.Objects.requireNonNull(price, "price");
        if (onlyIfAbsent && prices.containsKey(model)) {
            return false;
        }
        prices.put(model, price);
        return true;
    }

    @Override
    public synchronized CreditAccount openAccount(String accountId, AccountOwner owner, Instant at) {
        dev.parley.api.internal.Checks.id("accountId", accountId);
        java.util.Objects.requireNonNull(owner, "owner");
        if (byOwner.containsKey(owner)) {
            throw new InvalidRequestException("owner", "has a credit account already");
        }
        if (accounts.containsKey(accountId)) {
            throw new InvalidRequestException("accountId", "is the id of another account");
        }
        Account a = new Account(accountId, owner, micros(at));
        accounts.put(accountId, a);
        byOwner.put(owner, a);
        return view(a, at);
    }

    @Override
    public synchronized Optional<CreditAccount> account(String accountId, Instant at) {
        Account a = accounts.get(accountId);
        return a == null ? Optional.empty() : Optional.of(renew(a, at));
    }

    @Override
    public synchronized Optional<CreditAccount> account(AccountOwner owner, Instant at) {
        Account a = byOwner.get(owner);
        return a == null ? Optional.empty() : Optional.of(renew(a, at));
    }

    @Override
    public synchronized CreditAccount setTerms(String accountId, AccountTerms terms, Instant at) {
        java.util.Objects.requireNonNull(terms, "terms");
        Account a = accounts.get(accountId);
        if (a == null) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        CreditAccount current = renew(a, at);
        if (current.terms().equals(terms)) {
            return current;
        }
        BigDecimal spent = ZERO;
        Optional<Instant> since = current.spendingCountedFrom(terms, at);
        if (since.isPresent()) {
            for (LedgerEntry e : a.ledger) {
                if (e.kind() == LedgerEntry.Kind.CHARGE && !e.at().isBefore(since.get())) {
                    spent = spent.subtract(e.amount());
                }
            }
        }
        CreditAccount next = current.withTerms(terms, spent, at);
        a.terms = terms;
        a.spent = next.spent();
        a.periodStart = next.periodStart();
        a.periodEnd = next.periodEnd();
        return next;
    }

    @Override
    public synchronized LedgerEntry post(String entryId, String accountId, LedgerEntry.Kind kind, BigDecimal amount,
                                         String reason, Instant at) {
        Account a = accounts.get(accountId);
        if (a == null) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        if (kind == LedgerEntry.Kind.CHARGE) {
            throw new IllegalArgumentException("a charge is posted by a turn's commit, not by hand");
        }
        LedgerEntry earlier = posted.get(entryId);
        if (earlier != null) {
            return repeat(earlier, accountId, kind, amount);
        }
        renew(a, at);
        BigDecimal after = a.balance.add(amount);
        if (after.compareTo(reserved(a, at)) < 0) {
            throw new InvalidRequestException("amount", "would take the balance below zero or below what running turns hold");
        }
        LedgerEntry entry = new LedgerEntry(entryId, accountId, kind, amount, after, reason, micros(at), null, null,
                null, null, 0, 0);
        a.balance = after;
        a.ledger.add(entry);
        posted.put(entryId, entry);
        return entry;
    }

    /** A post under the id of an earlier one: that entry when it is the same change, else refused. */
    static LedgerEntry repeat(LedgerEntry earlier, String accountId, LedgerEntry.Kind kind, BigDecimal amount) {
        if (!earlier.accountId().equals(accountId) || earlier.kind() != kind
                || earlier.amount().compareTo(amount) != 0) {
            throw new InvalidRequestException("entryId", "is the id of another ledger entry");
        }
        return earlier;
    }

    @Override
    public synchronized Page<LedgerEntry> ledger(String accountId, PageRequest page) {
        Account a = accounts.get(accountId);
        if (a == null) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        List<LedgerEntry> all = new ArrayList<>(a.ledger);
        all.sort(NEWEST_FIRST);
        return Pages.slice(all, page);
    }

    @Override
    public synchronized CreditHold reserve(HoldRequest request) {
        List<Account> charged = new ArrayList<>(request.owners().size());
        for (AccountOwner owner : request.owners()) {
            Account a = byOwner.get(owner);
            if (a != null && !charged.contains(a)) {
                charged.add(a);
            }
        }
        Instant expires = micros(request.at().plus(request.lease()));
        ModelPrice price = prices.get(request.model());
        if (charged.isEmpty()) {
            return new CreditHold(request.holdId(), List.of(), ZERO, request.model(),
                    price == null ? ModelPrice.FREE : price, expires);
        }
        if (price == null) {
            throw new InvalidRequestException("model", "has no credit price, and credit accounts apply to the turn");
        }
        holds.values().removeIf(h -> h.expiresAt.isBefore(request.at()));
        BigDecimal amount = price.cost(request.inputTokens(), request.maxOutputTokens());
        List<CreditAccount> views = new ArrayList<>(charged.size());
        for (Account a : charged) {
            CreditAccount view = renew(a, request.at());
            BigDecimal available = view.available();
            if (available.compareTo(amount) < 0) {
                throw new BudgetExceededException(a.id, amount.subtract(available));
            }
            views.add(view);
        }
        List<String> soft = views.stream().filter(v -> v.softLimitReachedBy(amount)).map(CreditAccount::id).toList();
        CreditHold hold = new CreditHold(request.holdId(), charged.stream().map(a -> a.id).toList(), amount,
                request.model(), price, expires, soft);
        holds.put(hold.id(), new Hold(hold));
        return hold;
    }

    @Override
    public synchronized boolean renewHold(String holdId, Instant at, Duration lease) {
        Hold h = holds.get(holdId);
        if (h == null || h.expiresAt.isBefore(at)) {
            return false;
        }
        h.expiresAt = micros(at.plus(lease));
        return true;
    }

    @Override
    public synchronized void releaseHold(String holdId) {
        holds.remove(holdId);
    }

    /**
     * Charges a turn, for the in-memory store's commit: its cost on each account of its hold, at most what the
     * account can pay without going below zero or taking what other live holds reserve; frees the hold.
     *
     * @return what the turn was charged and the tightest balance left
     */
    public synchronized Credits settle(TurnCharge charge, String conversationId, String promptId, Instant at) {
        CreditHold hold = charge.hold();
        if (!hold.metered()) {
            holds.remove(hold.id());
            return Credits.unmetered();
        }
        List<Account> charged = new ArrayList<>(hold.accountIds().size());
        for (String id : hold.accountIds()) {
            Account a = accounts.get(id);
            if (a == null) {
                throw new IllegalStateException("the hold names an account that does not exist: " + id);
            }
            charged.add(a);
            renew(a, at); // while the turn's own hold still counts: a reset keeps it
        }
        holds.remove(hold.id());
        BigDecimal amount = charge.cost();
        for (Account a : charged) {
            amount = amount.min(view(a, at).available());
        }
        Account tightest = null;
        for (Account a : charged) {
            Instant when = micros(view(a, at).notBeforePeriod(at));
            a.balance = a.balance.subtract(amount);
            a.spent = a.spent.add(amount);
            a.ledger.add(new LedgerEntry(dev.parley.api.internal.TimeOrderedIds.next(), a.id, LedgerEntry.Kind.CHARGE, amount.negate(),
                    a.balance, "turn", when, conversationId, promptId, hold.model(), hold.price(), charge.tokensIn(),
                    charge.tokensOut()));
            if (tightest == null || a.balance.compareTo(tightest.balance) < 0) {
                tightest = a;
            }
        }
        return Credits.charged(amount, tightest.balance, tightest.id);
    }

    private BigDecimal reserved(Account a, Instant at) {
        BigDecimal sum = ZERO;
        for (Hold h : holds.values()) {
            if (!h.expiresAt.isBefore(at) && h.hold.accountIds().contains(a.id)) {
                sum = sum.add(h.hold.amount());
            }
        }
        return sum;
    }

    private CreditAccount view(Account a, Instant at) {
        return new CreditAccount(a.id, a.owner, a.balance, reserved(a, at), a.createdAt, a.terms, a.spent,
                a.periodStart, a.periodEnd);
    }

    /** The account at {@code at}, its renewal written first when one is due. */
    private CreditAccount renew(Account a, Instant at) {
        CreditAccount now = view(a, at);
        if (!now.renewalDue(at)) {
            return now;
        }
        CreditAccount renewed = now.renewed(at);
        BigDecimal change = renewed.balance().subtract(a.balance);
        if (change.signum() != 0) {
            a.ledger.add(new LedgerEntry(dev.parley.api.internal.TimeOrderedIds.next(), a.id, LedgerEntry.Kind.RENEWAL, change,
                    renewed.balance(), "renewal", micros(renewed.periodStart()), null, null, null, null, 0, 0));
        }
        a.balance = renewed.balance();
        a.spent = renewed.spent();
        a.periodStart = renewed.periodStart();
        a.periodEnd = renewed.periodEnd();
        return renewed;
    }

    private static Instant micros(Instant at) {
        return at.truncatedTo(ChronoUnit.MICROS);
    }

    /** Every ledger entry of the conversation keeps its amounts but loses its conversation and message ids. */
    public synchronized void unlinkConversation(String conversationId) {
        for (Account a : accounts.values()) {
            a.ledger.replaceAll(e -> conversationId.equals(e.conversationId()) ? unlinked(e) : e);
        }
        posted.replaceAll((id, e) -> conversationId.equals(e.conversationId()) ? unlinked(e) : e);
    }

    private static LedgerEntry unlinked(LedgerEntry e) {
        return new LedgerEntry(e.id(), e.accountId(), e.kind(), e.amount(), e.balanceAfter(), e.reason(), e.at(), null,
                null, e.model(), e.price(), e.tokensIn(), e.tokensOut());
    }
}
