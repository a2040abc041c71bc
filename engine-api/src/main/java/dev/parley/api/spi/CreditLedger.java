package dev.parley.api.spi;

import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.CreditHold;
import dev.parley.api.credits.HoldRequest;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The credits of a {@link ConversationStore} that keeps them: model prices, accounts and their ledgers, and the
 * holds turns reserve. A store that is a {@code CreditLedger} also settles a turn's
 * {@linkplain dev.parley.api.values.TurnRecord#charge() charge} in {@link TurnLedger#commitTurn}, in the turn's own
 * transaction, and returns the stored reply with its {@link dev.parley.api.Credits}; a replay of the turn gets the
 * same credits back with {@link dev.parley.api.values.TurnClaim.Completed}.
 *
 * <p>Every method is atomic and thread safe, across every engine sharing the store: no account's balance goes
 * below zero, the balance always equals the sum of its ledger, and what live holds reserve on an account never
 * exceeds its balance, however many turns reserve at once. A hold whose lease ran out no longer counts against its
 * accounts.
 */
public interface CreditLedger {

    /** The price turns of {@code model} are charged at, if it has one. */
    Optional<ModelPrice> price(String model);

    /** Every model's price, by model name. */
    Map<String, ModelPrice> prices();

    /**
     * Sets the price of a model from now on; turns reserved before keep theirs.
     *
     * @param onlyIfAbsent when true, a price the model has already is kept (for prices a host sets in code at start)
     * @return whether the price was stored
     */
    boolean putPrice(String model, ModelPrice price, boolean onlyIfAbsent, Instant at);

    /**
     * Opens an account for an owner, with a zero balance.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code owner} when the owner has an account already;
     *                                                nothing is stored then
     */
    CreditAccount openAccount(String accountId, AccountOwner owner, Instant at);

    /**
     * Sets an account's terms from {@code at} on, without changing its balance: periodic terms start the period
     * containing {@code at}, whose spending is what the ledger charged since its start (ever, without a period).
     * Setting the terms an account has again changes nothing.
     *
     * @return the account as it stands under them
     * @throws dev.parley.api.InvalidRequestException naming {@code accountId} when there is no such account; nothing
     *                                                is stored then
     */
    CreditAccount setTerms(String accountId, AccountTerms terms, Instant at);

    /**
     * The account with this id, as it stands at {@code at} (holds live then count as reserved). A renewal due at
     * {@code at} is written first ({@link AccountTerms}).
     */
    Optional<CreditAccount> account(String accountId, Instant at);

    /** The account of this owner, as it stands at {@code at}. */
    Optional<CreditAccount> account(AccountOwner owner, Instant at);

    /**
     * Adds an entry to an account's ledger and its amount to the balance, in one transaction: a
     * {@link LedgerEntry.Kind#TOP_UP} (positive) or an {@link LedgerEntry.Kind#ADJUSTMENT} (either sign).
     *
     * An entry id the ledger has already makes the call a repeat: the entry stored under it is returned and nothing
     * changes, so that a host can retry a top-up safely with the same id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code accountId} when there is no such account,
     *                                                {@code amount} when it would take the balance below what live
     *                                                turns hold on it or below zero, or {@code entryId} when that id is
     *                                                an entry of another account, kind or amount; nothing is stored
     *                                                then
     */
    LedgerEntry post(String entryId, String accountId, LedgerEntry.Kind kind, BigDecimal amount, String reason,
                     Instant at);

    /**
     * An account's ledger, newest first, ties by id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code accountId} when there is no such account
     */
    Page<LedgerEntry> ledger(String accountId, PageRequest page);

    /**
     * Reserves what a turn may cost on every account of its owners, all or none, in one transaction: the
     * request's {@code inputTokens} and {@code maxOutputTokens} at the model's price, within each account's
     * {@linkplain CreditAccount#available() available} credits (its balance, and its hard limit). Renewals due are
     * written first. The hold names the accounts whose soft limit the turn reaches. A turn none of whose owners has
     * an account gets a hold with no accounts, which reserved nothing.
     *
     * @throws dev.parley.api.BudgetExceededException naming the first account, in owner order, whose available
     *                                                credits do not cover the amount, and the shortfall; nothing
     *                                                is reserved then
     * @throws dev.parley.api.InvalidRequestException naming {@code model} when accounts apply and the model has no
     *                                                price
     */
    CreditHold reserve(HoldRequest request);

    /** Extends a live hold to {@code at + lease}; false when it is gone (settled, released or expired). */
    boolean renewHold(String holdId, Instant at, Duration lease);

    /** Frees a hold without charging anything; does nothing when it is gone. */
    void releaseHold(String holdId);
}
