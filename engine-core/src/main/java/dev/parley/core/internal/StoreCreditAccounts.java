package dev.parley.core.internal;

import dev.parley.api.CreditAccounts;
import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.internal.Checks;
import dev.parley.api.spi.CreditLedger;

import java.math.BigDecimal;
import java.time.Clock;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** {@link CreditAccounts} on the engine's store, checking each argument before it reaches the store. Thread safe. */
final class StoreCreditAccounts implements CreditAccounts {
    private final CreditLedger ledger;
    private final Clock clock;
    private final Supplier<String> ids;
    private final Predicate<String> knownModel;
    private final Runnable checkOpen;

    StoreCreditAccounts(CreditLedger ledger, Clock clock, Supplier<String> ids, Predicate<String> knownModel,
                        Runnable checkOpen) {
        this.ledger = ledger;
        this.clock = clock;
        this.ids = ids;
        this.knownModel = knownModel;
        this.checkOpen = checkOpen;
    }

    @Override
    public Map<String, ModelPrice> prices() {
        checkOpen.run();
        return ledger.prices();
    }

    @Override
    public Optional<ModelPrice> price(String model) {
        checkOpen.run();
        return ledger.price(Checks.label("model", model, 256));
    }

    @Override
    public void setPrice(String model, ModelPrice price) {
        checkOpen.run();
        Checks.label("model", model, 256);
        if (price == null) {
            throw new InvalidRequestException("price", "is required");
        }
        if (!knownModel.test(model)) {
            throw new InvalidRequestException("model", "is not a model registered with the engine");
        }
        ledger.putPrice(model, price, false, clock.instant());
    }

    @Override
    public CreditAccount open(AccountOwner owner) {
        checkOpen.run();
        if (owner == null) {
            throw new InvalidRequestException("owner", "is required");
        }
        return ledger.openAccount(ids.get(), owner, clock.instant());
    }

    @Override
    public CreditAccount setTerms(String accountId, AccountTerms terms) {
        checkOpen.run();
        Checks.id("accountId", accountId);
        if (terms == null) {
            throw new InvalidRequestException("terms", "is required");
        }
        return ledger.setTerms(accountId, terms, clock.instant());
    }

    @Override
    public Optional<CreditAccount> account(String accountId) {
        checkOpen.run();
        return ledger.account(Checks.id("accountId", accountId), clock.instant());
    }

    @Override
    public Optional<CreditAccount> account(AccountOwner owner) {
        checkOpen.run();
        if (owner == null) {
            throw new InvalidRequestException("owner", "is required");
        }
        return ledger.account(owner, clock.instant());
    }

    @Override
    public LedgerEntry topUp(String accountId, BigDecimal amount, String reason) {
        return topUp(accountId, amount, reason, null);
    }

    @Override
    public LedgerEntry topUp(String accountId, BigDecimal amount, String reason, String requestId) {
        BigDecimal credits = amount(amount);
        if (credits.signum() <= 0) {
            throw new InvalidRequestException("amount", "of a top-up must be positive");
        }
        return post(accountId, LedgerEntry.Kind.TOP_UP, credits, reason, requestId);
    }

    @Override
    public LedgerEntry adjust(String accountId, BigDecimal amount, String reason) {
        return adjust(accountId, amount, reason, null);
    }

    @Override
    public LedgerEntry adjust(String accountId, BigDecimal amount, String reason, String requestId) {
        BigDecimal credits = amount(amount);
        if (credits.signum() == 0) {
            throw new InvalidRequestException("amount", "of an adjustment must not be zero");
        }
        return post(accountId, LedgerEntry.Kind.ADJUSTMENT, credits, reason, requestId);
    }

    @Override
    public Page<LedgerEntry> ledger(String accountId, PageRequest page) {
        checkOpen.run();
        Checks.id("accountId", accountId);
        Objects.requireNonNull(page, "page");
        return ledger.ledger(accountId, page);
    }

    /** Posts under the request id, or a fresh id when there is none; the store's "entryId" is the caller's "requestId". */
    private LedgerEntry post(String accountId, LedgerEntry.Kind kind, BigDecimal credits, String reason,
                             String requestId) {
        checkOpen.run();
        Checks.id("accountId", accountId);
        Checks.label("reason", reason, LedgerEntry.MAX_REASON_LENGTH);
        String entryId = requestId == null ? ids.get() : Checks.id("requestId", requestId);
        try {
            return ledger.post(entryId, accountId, kind, credits, reason, clock.instant());
        } catch (InvalidRequestException e) {
            if (e.field().equals("entryId")) {
                throw new InvalidRequestException("requestId", "was used for another account, kind or amount");
            }
            throw e;
        }
    }

    /** Largest amount a top-up or adjustment may move: far above any balance, small enough for every column. */
    static final BigDecimal MAX_AMOUNT = new BigDecimal("1000000000000");

    private static BigDecimal amount(BigDecimal amount) {
        if (amount == null) {
            throw new InvalidRequestException("amount", "is required");
        }
        if (amount.abs().compareTo(MAX_AMOUNT) > 0) {
            throw new InvalidRequestException("amount", "must be at most " + MAX_AMOUNT.toPlainString() + " credits");
        }
        try {
            return Credits.amount("amount", amount);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("amount", "must have at most " + Credits.SCALE + " decimals");
        }
    }
}
