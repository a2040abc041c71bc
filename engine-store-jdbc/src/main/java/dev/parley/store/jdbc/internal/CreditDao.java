package dev.parley.store.jdbc.internal;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Credits;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
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
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;
import org.jspecify.annotations.Nullable;

import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The statements of credits: prices, accounts and their ledgers, holds, and the charge of a turn's commit. Not
 * API. Thread safe (immutable).
 *
 * <p>Every change of a balance, and every reservation on it, locks the account's row first
 * ({@code SELECT ... FOR UPDATE}); a transaction that changes several accounts locks them all in one statement, in
 * the database's order of their ids ({@link #LOCK_ALL}): changes on an account from every engine on the database
 * are one after another, and two transactions that lock the same accounts never wait on each other in a cycle. Under the lock, a transaction
 * reads the account's balance and the sum of its live holds (those whose {@code expires_at} is not before the time
 * asked about) fresh, so that no balance goes below zero and what live holds reserve never exceeds it. Every
 * method runs on the caller's {@link Handle}, the changes in the caller's one transaction.
 */
public final class CreditDao {
    private static final BigDecimal ZERO = BigDecimal.ZERO.setScale(Credits.SCALE);

    /** The columns of a price, in {@link Dialect#priceInsertIfAbsent()}'s order. */
    static final String PRICE_COLUMNS = "model, per_thousand_input, per_thousand_output, per_request, updated_at";
    /** A model's price: primary key. */
    public static final String PRICE = "SELECT " + PRICE_COLUMNS + " FROM parley_credit_price WHERE model = :model";
    /** Every model's price, by model: the table has a row per priced model, read whole, by its key. */
    public static final String PRICES = "SELECT " + PRICE_COLUMNS + " FROM parley_credit_price ORDER BY model";
    /** A model's new price: primary key; no row when the model has none yet. */
    public static final String PRICE_UPDATE = "UPDATE parley_credit_price SET per_thousand_input = :in, "
            + "per_thousand_output = :out, per_request = :request, updated_at = :at WHERE model = :model";

    /** An account's own columns, its terms among them. */
    private static final String ROW_COLUMNS = "a.id, a.organization_id, a.owner_kind, a.owner_id, a.balance, "
            + "a.created_at, a.period, a.renewal, a.allowance, a.limit_amount, a.limit_kind, a.spent, a.period_start, "
            + "a.period_end";
    /** An account's columns, with what its live holds reserve at {@code :at} (its holds' index). */
    private static final String ACCOUNT_COLUMNS = ROW_COLUMNS + ", (SELECT COALESCE(SUM(h.amount), 0) FROM parley_credit_hold h WHERE h.account_id = a.id "
            + "AND h.expires_at >= :at) AS reserved";
    /** An account by id, as it stands at {@code :at}: primary key. */
    public static final String ACCOUNT = "SELECT " + ACCOUNT_COLUMNS + " FROM parley_credit_account a WHERE a.id = :id";
    /** An owner's account, as it stands at {@code :at}: the owner's unique key. */
    public static final String ACCOUNT_OF_OWNER = "SELECT " + ACCOUNT_COLUMNS + " FROM parley_credit_account a "
            + "WHERE a.organization_id = :org AND a.owner_kind = :kind AND a.owner_id = :owner";
    /** Whether an owner has an account (1) or not (0): the owner's unique key. */
    static final String OWNER_COUNT = "SELECT COUNT(*) FROM parley_credit_account WHERE organization_id = :org "
            + "AND owner_kind = :kind AND owner_id = :owner";
    /** Whether an account id is taken (1) or not (0): primary key. */
    static final String ID_COUNT = "SELECT COUNT(*) FROM parley_credit_account WHERE id = :id";
    /** A new account, at zero. */
    public static final String OPEN = "INSERT INTO parley_credit_account (id, organization_id, owner_kind, owner_id, "
            + "balance, created_at) VALUES (:id, :org, :kind, :owner, 0, :at)";
    /** Some accounts as stored, unlocked: primary key. */
    public static final String ACCOUNTS = "SELECT " + ROW_COLUMNS + " FROM parley_credit_account a "
            + "WHERE a.id IN (<ids>)";
    /** An account, its row locked until the transaction ends: primary key. */
    public static final String LOCK = "SELECT " + ROW_COLUMNS + " FROM parley_credit_account a WHERE a.id = :id "
            + "FOR UPDATE";
    /**
     * Some accounts, their rows locked until the transaction ends, in the database's order of their ids: primary
     * key. Every transaction that locks more than one account locks them with this statement, so that two of them
     * never wait on each other in a cycle.
     */
    public static final String LOCK_ALL = "SELECT " + ROW_COLUMNS + " FROM parley_credit_account a "
            + "WHERE a.id IN (<ids>) ORDER BY a.id FOR UPDATE";
    /** What live holds reserve on each of some accounts at {@code :at}: a range of the holds' index each. */
    public static final String HELD = "SELECT account_id, SUM(amount) AS held FROM parley_credit_hold "
            + "WHERE account_id IN (<ids>) AND expires_at >= :at GROUP BY account_id";
    /** The holds of some accounts that lapsed before {@code :at}: a range of the holds' index each. */
    public static final String DELETE_LAPSED = "DELETE FROM parley_credit_hold WHERE account_id IN (<ids>) "
            + "AND expires_at < :at";
    /** A hold's row on one account. */
    public static final String INSERT_HOLD = "INSERT INTO parley_credit_hold (hold_id, account_id, amount, "
            + "expires_at, conversation_id, prompt_id) VALUES (?, ?, ?, ?, ?, ?)";
    /** A live hold extended: the primary key's leading column. */
    public static final String RENEW_HOLD = "UPDATE parley_credit_hold SET expires_at = :expires "
            + "WHERE hold_id = :id AND expires_at >= :at";
    /** A hold freed on every account: the primary key's leading column. */
    public static final String DELETE_HOLD = "DELETE FROM parley_credit_hold WHERE hold_id = :id";
    /** A turn's charge taken from each of its accounts, whose rows the transaction locked: primary key. */
    public static final String DEBIT = "UPDATE parley_credit_account SET balance = balance - :amount, "
            + "spent = spent + :amount WHERE id IN (<ids>)";
    /** An account's new balance, its row locked: primary key. */
    public static final String SET_BALANCE = "UPDATE parley_credit_account SET balance = :balance WHERE id = :id";
    /** An account renewed for a new period, its row locked: primary key. */
    public static final String RENEW = "UPDATE parley_credit_account SET balance = :balance, spent = :spent, "
            + "period_start = :start, period_end = :end WHERE id = :id";
    /** An account's new terms, its row locked: primary key. */
    public static final String SET_TERMS = "UPDATE parley_credit_account SET period = :period, renewal = :renewal, "
            + "allowance = :allowance, limit_amount = :limit, limit_kind = :limitKind, spent = :spent, "
            + "period_start = :start, period_end = :end WHERE id = :id";
    /** What turns were charged to an account from {@code :since} on: a range of the ledger's index. */
    public static final String SPENT_SINCE = "SELECT COALESCE(-SUM(amount), 0) FROM parley_credit_ledger "
            + "WHERE account_id = :id AND at >= :since AND kind = 'CHARGE'";

    /** The columns of a ledger entry, in {@link #INSERT_ENTRY}'s order. */
    static final String LEDGER_COLUMNS = "id, account_id, kind, amount, balance_after, reason, at, conversation_id, "
            + "message_id, model, per_thousand_input, per_thousand_output, per_request, tokens_in, tokens_out";
    /** A ledger entry, with positional parameters; a turn's commit executes it once per account. */
    public static final String INSERT_ENTRY = "INSERT INTO parley_credit_ledger (" + LEDGER_COLUMNS
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    /**
     * How many entries an account's ledger has, in one statement with whether the account exists (no row when it
     * does not): the account's primary key, and a range of the ledger's index.
     */
    /** A ledger entry by its id (the primary key): a repeated top-up or adjustment is answered with it. */
    public static final String ENTRY_BY_ID = "SELECT " + LEDGER_COLUMNS + " FROM parley_credit_ledger WHERE id = :id";
    public static final String LEDGER_COUNT = "SELECT (SELECT COUNT(*) FROM parley_credit_ledger l "
            + "WHERE l.account_id = a.id) FROM parley_credit_account a WHERE a.id = :id";
    /**
     * A page of an account's ledger, newest first, ties by id descending (in the database's order of ids): a range
     * of {@code ix_parley_credit_ledger_account}, read in its order; {@link Dialect#ledgerPage()} spells it.
     */
    static final String LEDGER_PAGE_WHERE = " WHERE account_id = :id ORDER BY account_id, at DESC, id DESC "
            + "LIMIT :limit OFFSET :offset";

    private static final RowMapper<ModelPrice> PRICE_ROW = (rs, ctx) -> new ModelPrice(
            price(rs, "per_thousand_input"), price(rs, "per_thousand_output"), price(rs, "per_request"));

    private static final RowMapper<CreditAccount> ACCOUNT_ROW = (rs, ctx) -> account(rs, Rows.amount(rs, "reserved"));

    /** The account of the current row, reserving {@code reserved}. */
    private static CreditAccount account(ResultSet rs, BigDecimal reserved) throws SQLException {
        String period = rs.getString("period");
        BigDecimal limit = rs.getBigDecimal("limit_amount");
        AccountTerms terms = new AccountTerms(
                period == null ? null : CreditPeriod.parse(period),
                Rows.value(AccountTerms.Renewal.class, rs.getString("renewal"), "renewal"),
                rs.getBigDecimal("allowance"),
                limit == null ? null
                        : new SpendLimit(limit, Rows.value(SpendLimit.Kind.class, rs.getString("limit_kind"), "limit_kind")));
        OffsetDateTime start = rs.getObject("period_start", OffsetDateTime.class);
        OffsetDateTime end = rs.getObject("period_end", OffsetDateTime.class);
        return new CreditAccount(
                rs.getString("id"),
                new AccountOwner(Rows.value(AccountOwner.Kind.class, rs.getString("owner_kind"), "owner_kind"),
                        rs.getString("organization_id"), rs.getString("owner_id")),
                Rows.amount(rs, "balance"),
                reserved,
                instant(rs, "created_at"),
                terms,
                Rows.amount(rs, "spent"),
                start == null ? null : start.toInstant(),
                end == null ? null : end.toInstant());
    }

    private static final RowMapper<LedgerEntry> ENTRY_ROW = (rs, ctx) -> {
        String model = rs.getString("model");
        ModelPrice price = null;
        if (rs.getBigDecimal("per_thousand_input") != null) {
            price = new ModelPrice(price(rs, "per_thousand_input"), price(rs, "per_thousand_output"),
                    price(rs, "per_request"));
        }
        return new LedgerEntry(
                rs.getString("id"),
                rs.getString("account_id"),
                Rows.value(LedgerEntry.Kind.class, rs.getString("kind"), "kind"),
                Rows.amount(rs, "amount"),
                Rows.amount(rs, "balance_after"),
                rs.getString("reason"),
                instant(rs, "at"),
                rs.getString("conversation_id"),
                rs.getString("message_id"),
                model,
                price,
                rs.getLong("tokens_in"),
                rs.getLong("tokens_out"));
    };

    private final String priceInsertIfAbsent;
    private final String ledgerPage;
    private final @Nullable String notDurable;
    /** Where live holds are kept when not in the hold table: an embedded H2 database's, in this JVM. */
    private final @Nullable LocalHolds local;

    /** Statements for a database that keeps its holds in its hold table. */
    public CreditDao(Dialect dialect) {
        this(dialect, null);
    }

    /**
     * Statements for a database whose holds are {@code local} (an embedded H2 database), or, when null, in its hold
     * table. With local holds, the caller takes the accounts' locks ({@link LocalHolds#lock}) around every
     * transaction that changes a balance or reserves, and frees a charged turn's hold once its commit is done.
     */
    public CreditDao(Dialect dialect, @Nullable LocalHolds local) {
        this.priceInsertIfAbsent = dialect.priceInsertIfAbsent();
        this.ledgerPage = dialect.ledgerPage();
        this.notDurable = dialect.notDurable();
        this.local = local;
    }

    /** The holds kept in this JVM, or null when they are in the hold table. */
    public @Nullable LocalHolds localHolds() {
        return local;
    }

    /** The statement of a ledger page, as this database spells it. */
    public String ledgerPage() {
        return ledgerPage;
    }

    // --- prices ---

    /** The model's price, if it has one. */
    public Optional<ModelPrice> price(Handle h, String model) {
        return h.createQuery(PRICE).bind("model", model).map(PRICE_ROW).findOne();
    }

    /** Every model's price, by model. */
    public Map<String, ModelPrice> prices(Handle h) {
        Map<String, ModelPrice> prices = new LinkedHashMap<>();
        h.createQuery(PRICES).map((rs, ctx) -> Map.entry(rs.getString("model"), PRICE_ROW.map(rs, ctx)))
                .forEach(e -> prices.put(e.getKey(), e.getValue()));
        return Map.copyOf(prices);
    }

    /**
     * Sets the model's price, in the caller's transaction: only when it has none, or replacing the one it has.
     * Correct however many engines put the same model's price at once: the insert inserts nothing when the model
     * has a price (see {@link Dialect#priceInsertIfAbsent()}), and a replacement that found no row to update and
     * then lost the insert to another engine updates the row that engine inserted.
     *
     * @return whether the price was stored
     */
    public boolean putPrice(Handle h, String model, ModelPrice price, boolean onlyIfAbsent, Instant at) {
        if (!onlyIfAbsent && updatePrice(h, model, price, at)) {
            return true;
        }
        if (insertPriceIfAbsent(h, model, price, at)) {
            return true;
        }
        return !onlyIfAbsent && updatePrice(h, model, price, at);
    }

    private boolean updatePrice(Handle h, String model, ModelPrice price, Instant at) {
        return h.createUpdate(PRICE_UPDATE)
                .bind("in", price.perThousandInput())
                .bind("out", price.perThousandOutput())
                .bind("request", price.perRequest())
                .bind("at", Rows.utc(at))
                .bind("model", model)
                .execute() == 1;
    }

    private boolean insertPriceIfAbsent(Handle h, String model, ModelPrice price, Instant at) {
        try {
            return h.createUpdate(priceInsertIfAbsent)
                    .bind("model", model)
                    .bind("in", price.perThousandInput())
                    .bind("out", price.perThousandOutput())
                    .bind("request", price.perRequest())
                    .bind("at", Rows.utc(at))
                    .execute() == 1;
        } catch (RuntimeException e) {
            if (SqlErrors.isUniqueViolation(e)) {
                return false; // H2: a price inserted in the same instant passed the check too
            }
            throw e;
        }
    }

    // --- accounts and the ledger ---

    /**
     * Opens an account at zero, in the caller's transaction.
     *
     * @throws InvalidRequestException naming {@code owner} when the owner has an account, or {@code accountId} when
     *                                 the id is another account's; an owner's account opened by another engine in
     *                                 the same instant makes the unique key refuse the insert, which the caller
     *                                 classifies with {@link #openRefusal} once the transaction is rolled back
     */
    public CreditAccount open(Handle h, String accountId, AccountOwner owner, Instant at) {
        InvalidRequestException refused = openRefusal(h, accountId, owner);
        if (refused != null) {
            throw refused;
        }
        h.createUpdate(OPEN)
                .bind("id", accountId)
                .bind("org", owner.organizationId())
                .bind("kind", owner.kind().name())
                .bind("owner", owner.ownerId())
                .bind("at", Rows.utc(at))
                .execute();
        return CreditAccount.opened(accountId, owner, micros(at));
    }

    /** Why an account cannot be opened: the owner has one ({@code owner}), or the id is taken; null when it can. */
    public @Nullable InvalidRequestException openRefusal(Handle h, String accountId, AccountOwner owner) {
        if (h.createQuery(OWNER_COUNT)
                .bind("org", owner.organizationId())
                .bind("kind", owner.kind().name())
                .bind("owner", owner.ownerId())
                .mapTo(Long.class).one() > 0) {
            return new InvalidRequestException("owner", "has a credit account already");
        }
        if (h.createQuery(ID_COUNT).bind("id", accountId).mapTo(Long.class).one() > 0) {
            return new InvalidRequestException("accountId", "is the id of another account");
        }
        return null;
    }

    /** The account with this id, as it stands at {@code at}. */
    public Optional<CreditAccount> account(Handle h, String accountId, Instant at) {
        return h.createQuery(ACCOUNT).bind("id", accountId).bind("at", Rows.utc(at)).map(ACCOUNT_ROW).findOne()
                .map(a -> withLocalHolds(a, at));
    }

    private CreditAccount withLocalHolds(CreditAccount a, Instant at) {
        return local == null ? a : a.withReserved(local.held(a.id(), at));
    }

    /** The owner's account, as it stands at {@code at}. */
    public Optional<CreditAccount> account(Handle h, AccountOwner owner, Instant at) {
        return h.createQuery(ACCOUNT_OF_OWNER)
                .bind("org", owner.organizationId())
                .bind("kind", owner.kind().name())
                .bind("owner", owner.ownerId())
                .bind("at", Rows.utc(at))
                .map(ACCOUNT_ROW)
                .findOne()
                .map(a -> withLocalHolds(a, at));
    }

    /**
     * Adds a top-up or adjustment to an account's ledger and its amount to the balance, in the caller's
     * transaction, under the account's row lock.
     *
     * @throws InvalidRequestException naming {@code accountId} when there is no such account, or {@code amount}
     *                                 when the balance would go below what live holds reserve at {@code at} (or
     *                                 below zero); nothing is written then
     */
    public LedgerEntry post(Handle h, String entryId, String accountId, LedgerEntry.Kind kind, BigDecimal amount,
                            String reason, Instant at) {
        Optional<CreditAccount> locked = lock(h, accountId);
        if (locked.isEmpty()) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        if (kind == LedgerEntry.Kind.CHARGE) {
            throw new IllegalArgumentException("a charge is posted by a turn's commit, not by hand");
        }
        // A repeat of an earlier post (under the account's lock, so two repeats on one account see each other).
        Optional<LedgerEntry> earlier = h.createQuery(ENTRY_BY_ID).bind("id", entryId).map(ENTRY_ROW).findOne();
        if (earlier.isPresent()) {
            LedgerEntry e = earlier.get();
            if (!e.accountId().equals(accountId) || e.kind() != kind || e.amount().compareTo(amount) != 0) {
                throw new InvalidRequestException("entryId", "is the id of another ledger entry");
            }
            return e;
        }
        CreditAccount account = renew(h, locked.get(), held(h, List.of(accountId), at, null).getOrDefault(accountId, ZERO), at);
        BigDecimal after = account.balance().add(amount);
        if (after.compareTo(account.reserved()) < 0) {
            throw new InvalidRequestException("amount", "would take the balance below zero or below what running turns hold");
        }
        // Checks every field (the amount's decimals among them) before anything is written.
        LedgerEntry entry = new LedgerEntry(entryId, accountId, kind, amount, after, reason, micros(at), null, null,
                null, null, 0, 0);
        insertEntries(h, List.of(entry));
        h.createUpdate(SET_BALANCE).bind("balance", entry.balanceAfter()).bind("id", accountId).execute();
        return entry;
    }

    /**
     * A page of an account's ledger, newest first, with its total. Reads twice: the caller opens one snapshot for
     * both reads.
     *
     * @throws InvalidRequestException naming {@code accountId} when there is no such account
     */
    public Page<LedgerEntry> ledger(Handle h, String accountId, PageRequest page) {
        Optional<Long> count = h.createQuery(LEDGER_COUNT).bind("id", accountId).mapTo(Long.class).findOne();
        if (count.isEmpty()) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        long total = count.get();
        if (total <= page.offset()) {
            return Page.of(List.of(), page, total);
        }
        List<LedgerEntry> items = h.createQuery(ledgerPage)
                .bind("id", accountId)
                .bind("limit", page.size())
                .bind("offset", page.offset())
                .map(ENTRY_ROW)
                .list();
        return Page.of(items, page, total);
    }

    // --- holds ---

    /**
     * Reserves a turn's most cost on every account of its owners, all or none, in the caller's transaction: the
     * owners' accounts in one statement and the model's price; then, if any account, each one's row locked in id order,
     * its lapsed holds deleted, the sum of its live ones read, and one hold row per account inserted.
     *
     * @throws BudgetExceededException naming the first account, in owner order, that cannot cover the amount
     * @throws InvalidRequestException naming {@code model} when accounts apply and the model has no price
     */
    public CreditHold reserve(Handle h, HoldRequest request) {
        return reserve(h, request, accountsOf(h, request.owners()));
    }

    /** The ids of the accounts of a turn's owners, in owner order, each once; one statement. */
    public List<String> accounts(Handle h, HoldRequest request) {
        return accountsOf(h, request.owners());
    }

    /**
     * {@link #reserve(Handle, HoldRequest)} on accounts already found ({@link #accounts}); with local holds, the
     * caller holds their locks.
     */
    public CreditHold reserve(Handle h, HoldRequest request, List<String> accounts) {
        Instant expires = micros(request.at().plus(request.lease()));
        Optional<ModelPrice> price = price(h, request.model());
        if (accounts.isEmpty()) {
            return new CreditHold(request.holdId(), List.of(), ZERO, request.model(), price.orElse(ModelPrice.FREE),
                    expires);
        }
        if (price.isEmpty()) {
            throw new InvalidRequestException("model", "has no credit price, and credit accounts apply to the turn");
        }
        BigDecimal amount = price.get().cost(request.inputTokens(), request.maxOutputTokens());
        if (local != null) {
            return reserveLocally(h, request, accounts, amount, price.get(), expires);
        }
        if (notDurable != null) {
            // A hold need not survive a crash of the database: a lost one frees its credits early, and its turn's
            // charge is still capped at what each account can pay (settle). Its commit need not wait for the disk.
            h.execute(notDurable);
        }
        Map<String, CreditAccount> locked = lockAll(h, accounts);
        h.createUpdate(DELETE_LAPSED).bindList("ids", accounts).bind("at", Rows.utc(request.at())).execute();
        Map<String, BigDecimal> held = held(h, accounts, request.at(), null);
        List<String> soft = new ArrayList<>(0);
        for (String id : accounts) {
            admit(renew(h, locked.get(id), held.getOrDefault(id, ZERO), request.at()), amount, soft);
        }
        try (PreparedStatement s = h.getConnection().prepareStatement(INSERT_HOLD)) {
            for (String id : accounts) {
                s.setString(1, request.holdId());
                s.setString(2, id);
                s.setBigDecimal(3, amount);
                s.setObject(4, Rows.utc(expires));
                s.setString(5, request.conversationId());
                s.setString(6, request.promptId());
                s.addBatch();
            }
            s.executeBatch();
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
        return new CreditHold(request.holdId(), accounts, amount, request.model(), price.get(), expires, soft);
    }

    private CreditHold reserveLocally(Handle h, HoldRequest request, List<String> accounts, BigDecimal amount,
                                      ModelPrice price, Instant expires) {
        Map<String, CreditAccount> stored = new HashMap<>();
        h.createQuery(ACCOUNTS).bindList("ids", accounts).map((rs, ctx) -> account(rs, ZERO))
                .forEach(a -> stored.put(a.id(), a));
        Map<String, BigDecimal> held = local.held(accounts, request.at(), null);
        List<String> soft = new ArrayList<>(0);
        for (String id : accounts) {
            CreditAccount account = stored.get(id);
            if (account == null) {
                throw new IllegalStateException("a credit account went away: " + id);
            }
            admit(account.renewalDue(request.at())
                    ? renew(h, lock(h, id).orElseThrow(), held.getOrDefault(id, ZERO), request.at())
                    : account.withReserved(held.getOrDefault(id, ZERO)), amount, soft);
        }
        CreditHold hold = new CreditHold(request.holdId(), accounts, amount, request.model(), price, expires, soft);
        local.add(hold);
        return hold;
    }

    /**
     * Refuses a hold of {@code amount} on {@code account} (renewed if due, with what live holds reserve) that it
     * cannot pay, and adds the account to {@code soft} when the hold reaches its soft limit.
     */
    private static void admit(CreditAccount account, BigDecimal amount, List<String> soft) {
        BigDecimal available = account.available();
        if (available.compareTo(amount) < 0) {
            throw new BudgetExceededException(account.id(), amount.subtract(available));
        }
        if (account.softLimitReachedBy(amount)) {
            soft.add(account.id());
        }
    }

    /**
     * The statement that finds the accounts of {@code owners} owners: one look-up of the owners' unique key per
     * owner, joined by UNION ALL (H2 reads a table whole for an OR of key look-ups; both databases serve each
     * branch by the key).
     */
    public static String accountsOfOwners(int owners) {
        StringBuilder sql = new StringBuilder();
        for (int i = 0; i < owners; i++) {
            sql.append(i == 0 ? "" : " UNION ALL ")
                    .append("SELECT id, organization_id, owner_kind, owner_id FROM parley_credit_account WHERE ")
                    .append("organization_id = :org").append(i).append(" AND owner_kind = :kind").append(i)
                    .append(" AND owner_id = :owner").append(i);
        }
        return sql.toString();
    }

    /** The ids of the owners' accounts, in owner order, each once; one statement. */
    private static List<String> accountsOf(Handle h, List<AccountOwner> owners) {
        if (owners.isEmpty()) {
            return List.of();
        }
        var query = h.createQuery(accountsOfOwners(owners.size()));
        for (int i = 0; i < owners.size(); i++) {
            AccountOwner o = owners.get(i);
            query.bind("org" + i, o.organizationId()).bind("kind" + i, o.kind().name()).bind("owner" + i, o.ownerId());
        }
        Map<AccountOwner, String> found = new HashMap<>();
        query.map((rs, ctx) -> Map.entry(new AccountOwner(Rows.value(AccountOwner.Kind.class,
                        rs.getString("owner_kind"), "owner_kind"), rs.getString("organization_id"),
                        rs.getString("owner_id")), rs.getString("id")))
                .forEach(e -> found.put(e.getKey(), e.getValue()));
        List<String> ids = new ArrayList<>(owners.size());
        for (AccountOwner o : owners) {
            String id = found.get(o);
            if (id != null && !ids.contains(id)) {
                ids.add(id);
            }
        }
        return List.copyOf(ids);
    }

    /** Extends a hold live at {@code at} to {@code at + lease}; false when it is gone or lapsed. */
    public boolean renew(Handle h, String holdId, Instant at, Duration lease) {
        if (local != null) {
            return local.renew(holdId, at, lease);
        }
        return h.createUpdate(RENEW_HOLD)
                .bind("expires", Rows.utc(at.plus(lease)))
                .bind("id", holdId)
                .bind("at", Rows.utc(at))
                .execute() > 0;
    }

    /** Frees a hold on every account; nothing when it is gone. */
    public void release(Handle h, String holdId) {
        if (local != null) {
            local.release(holdId);
            return;
        }
        h.createUpdate(DELETE_HOLD).bind("id", holdId).execute();
    }

    // --- a turn's charge ---

    /**
     * Charges a turn in its commit's transaction, after every check that can refuse the commit: each account of
     * its hold locked in id order, the hold's rows deleted, and the cost taken from every account, but never more
     * than the least any of them can pay without going below zero or taking what other live holds reserve at
     * {@code at}; one CHARGE entry per account.
     *
     * @return the cost charged and the tightest balance left (first in the hold's order on ties)
     */
    public Credits settle(Handle h, TurnCharge charge, String conversationId, String promptId, Instant at) {
        CreditHold hold = charge.hold();
        if (!hold.metered()) {
            release(h, hold.id());
            return Credits.unmetered();
        }
        List<String> accounts = hold.accountIds();
        Map<String, CreditAccount> locked = lockAll(h, accounts);
        if (accounts.stream().anyMatch(id -> locked.get(id).renewalDue(at))) {
            // A renewal first, while the turn's own hold still counts: a reset keeps what it holds.
            Map<String, BigDecimal> all = held(h, accounts, at, null);
            for (String id : accounts) {
                locked.put(id, renew(h, locked.get(id), all.getOrDefault(id, ZERO), at).withReserved(ZERO));
            }
        }
        Map<String, BigDecimal> others;
        if (local != null) {
            others = local.held(accounts, at, hold.id()); // the caller frees the hold once the commit is done
        } else {
            release(h, hold.id());
            others = held(h, accounts, at, null);
        }
        Map<String, BigDecimal> balances = new HashMap<>();
        Map<String, Instant> stamps = new HashMap<>();
        BigDecimal amount = charge.cost();
        for (String id : accounts) {
            CreditAccount account = locked.get(id).withReserved(others.getOrDefault(id, ZERO));
            balances.put(id, account.balance());
            stamps.put(id, micros(account.notBeforePeriod(at)));
            amount = amount.min(account.available());
        }
        h.createUpdate(DEBIT).bindList("ids", accounts).bind("amount", amount).execute();
        List<LedgerEntry> entries = new ArrayList<>(accounts.size());
        String tightest = null;
        BigDecimal least = null;
        for (String id : accounts) {
            BigDecimal after = balances.get(id).subtract(amount);
            entries.add(new LedgerEntry(dev.parley.api.internal.TimeOrderedIds.next(), id, LedgerEntry.Kind.CHARGE, amount.negate(),
                    after, "turn", stamps.get(id), conversationId, promptId, hold.model(), hold.price(), charge.tokensIn(),
                    charge.tokensOut()));
            if (least == null || after.compareTo(least) < 0) {
                least = after;
                tightest = id;
            }
        }
        insertEntries(h, entries);
        return Credits.charged(amount, least, tightest);
    }

    /**
     * Locks the accounts' rows ({@link #LOCK_ALL}, or {@link #LOCK} for one) and returns them as stored.
     *
     * @throws IllegalStateException when an account does not exist (a hold names no account that could go away)
     */
    private static Map<String, CreditAccount> lockAll(Handle h, List<String> accounts) {
        if (accounts.size() == 1) {
            String id = accounts.get(0);
            Map<String, CreditAccount> one = new HashMap<>(2);
            one.put(id, lock(h, id).orElseThrow(() -> new IllegalStateException(
                    "a credit hold names an account that does not exist: " + id)));
            return one;
        }
        Map<String, CreditAccount> locked = new HashMap<>();
        h.createQuery(LOCK_ALL).bindList("ids", accounts).map((rs, ctx) -> account(rs, ZERO))
                .forEach(a -> locked.put(a.id(), a));
        for (String id : accounts) {
            if (!locked.containsKey(id)) {
                throw new IllegalStateException("a credit hold names an account that does not exist: " + id);
            }
        }
        return locked;
    }

    /**
     * Locks an account's row until the transaction ends; the account as stored, reserving nothing (the caller reads
     * its holds), or empty when there is no such account.
     */
    private static Optional<CreditAccount> lock(Handle h, String accountId) {
        return h.createQuery(LOCK).bind("id", accountId)
                .map((rs, ctx) -> account(rs, ZERO))
                .findOne();
    }

    /**
     * The locked account with live holds of {@code held}, as it stands at {@code at}: its renewal, when one is due,
     * written first (a RENEWAL entry for the change of balance, stamped at the new period's start, and the new
     * period on the row).
     */
    private static CreditAccount renew(Handle h, CreditAccount locked, BigDecimal held, Instant at) {
        CreditAccount account = locked.withReserved(held);
        if (!account.renewalDue(at)) {
            return account;
        }
        CreditAccount renewed = account.renewed(at);
        BigDecimal change = renewed.balance().subtract(account.balance());
        if (change.signum() != 0) {
            insertEntries(h, List.of(new LedgerEntry(dev.parley.api.internal.TimeOrderedIds.next(), account.id(),
                    LedgerEntry.Kind.RENEWAL, change, renewed.balance(), "renewal", micros(renewed.periodStart()),
                    null, null, null, null, 0, 0)));
        }
        h.createUpdate(RENEW)
                .bind("balance", renewed.balance())
                .bind("spent", renewed.spent())
                .bind("start", Rows.utc(renewed.periodStart()))
                .bind("end", Rows.utc(renewed.periodEnd()))
                .bind("id", account.id())
                .execute();
        return renewed;
    }

    /**
     * Writes the renewal due on an account at {@code at}, if any, in the caller's transaction; nothing when there is
     * no such account or none is due.
     */
    public void renewIfDue(Handle h, String accountId, Instant at) {
        Optional<CreditAccount> locked = lock(h, accountId);
        if (locked.isPresent() && locked.get().renewalDue(at)) {
            renew(h, locked.get(), held(h, List.of(accountId), at, null).getOrDefault(accountId, ZERO), at);
        }
    }

    /**
     * Sets an account's terms, in the caller's transaction, under its row lock: a renewal due under the old terms
     * first; nothing more when the terms are the same; else the new terms, with the spending of their current
     * period read from the ledger when their periods differ from the old ones.
     *
     * @throws InvalidRequestException naming {@code accountId} when there is no such account
     */
    public CreditAccount setTerms(Handle h, String accountId, AccountTerms terms, Instant at) {
        Optional<CreditAccount> locked = lock(h, accountId);
        if (locked.isEmpty()) {
            throw new InvalidRequestException("accountId", "names no credit account");
        }
        CreditAccount account = renew(h, locked.get(), held(h, List.of(accountId), at, null).getOrDefault(accountId, ZERO),
                at);
        if (account.terms().equals(terms)) {
            return account;
        }
        Optional<Instant> since = account.spendingCountedFrom(terms, at);
        BigDecimal spent = since.isEmpty() ? ZERO : h.createQuery(SPENT_SINCE).bind("id", accountId)
                .bind("since", Rows.utc(since.get()))
                .map((rs, ctx) -> Credits.amount("spent", rs.getBigDecimal(1))).one();
        CreditAccount next = account.withTerms(terms, spent, at);
        SpendLimit limit = terms.limit();
        var update = h.createUpdate(SET_TERMS);
        if (next.periodStart() == null) {
            update.bindNull("start", Types.TIMESTAMP_WITH_TIMEZONE).bindNull("end", Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            update.bind("start", Rows.utc(next.periodStart())).bind("end", Rows.utc(next.periodEnd()));
        }
        update
                .bind("period", terms.period() == null ? null : terms.period().toString())
                .bind("renewal", terms.renewal().name())
                .bind("allowance", terms.allowance())
                .bind("limit", limit == null ? null : limit.amount())
                .bind("limitKind", limit == null ? null : limit.kind().name())
                .bind("spent", next.spent())
                .bind("id", accountId)
                .execute();
        return next;
    }

    /** What live holds reserve at {@code at} on each account that has any, but the hold {@code except}. */
    private Map<String, BigDecimal> held(Handle h, List<String> accounts, Instant at, @Nullable String except) {
        if (local != null) {
            return local.held(accounts, at, except);
        }
        Map<String, BigDecimal> held = new HashMap<>();
        h.createQuery(HELD).bindList("ids", accounts).bind("at", Rows.utc(at))
                .map((rs, ctx) -> Map.entry(rs.getString("account_id"), Rows.amount(rs, "held")))
                .forEach(e -> held.put(e.getKey(), e.getValue()));
        return held;
    }

    /** Writes ledger entries: one plain JDBC statement, executed once per entry. */
    private static void insertEntries(Handle h, List<LedgerEntry> entries) {
        try (PreparedStatement s = h.getConnection().prepareStatement(INSERT_ENTRY)) {
            for (LedgerEntry e : entries) {
                s.setString(1, e.id());
                s.setString(2, e.accountId());
                s.setString(3, e.kind().name());
                s.setBigDecimal(4, e.amount());
                s.setBigDecimal(5, e.balanceAfter());
                s.setString(6, e.reason());
                s.setObject(7, Rows.utc(e.at()));
                s.setString(8, e.conversationId());
                s.setString(9, e.messageId());
                s.setString(10, e.model());
                ModelPrice p = e.price();
                if (p == null) {
                    s.setNull(11, Types.NUMERIC);
                    s.setNull(12, Types.NUMERIC);
                    s.setNull(13, Types.NUMERIC);
                } else {
                    s.setBigDecimal(11, p.perThousandInput());
                    s.setBigDecimal(12, p.perThousandOutput());
                    s.setBigDecimal(13, p.perRequest());
                }
                s.setLong(14, e.tokensIn());
                s.setLong(15, e.tokensOut());
                s.addBatch();
            }
            s.executeBatch();
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    private static BigDecimal price(ResultSet rs, String column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        if (value == null) {
            throw new IllegalStateException("column " + column + " holds no value");
        }
        return value;
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        if (t == null) {
            throw new IllegalStateException("column " + column + " holds no value");
        }
        return t.toInstant();
    }

    private static Instant micros(Instant at) {
        return at.truncatedTo(ChronoUnit.MICROS);
    }
}
