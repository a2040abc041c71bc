package dev.parley.api;

import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.AccountTerms;
import dev.parley.api.credits.CreditAccount;
import dev.parley.api.credits.LedgerEntry;
import dev.parley.api.credits.ModelPrice;

import java.math.BigDecimal;
import java.util.Map;
import java.util.Optional;

/**
 * The credits of the engine's store ({@link dev.parley.api.spi.CreditLedger}): model prices, accounts and their
 * ledgers, shared by every engine on the store. Balances change only by ledger entries: a top-up or an adjustment
 * with a reason, or a turn's charge. Who may change credits is the host's decision: this handle has no caller.
 * Thread safe.
 *
 * <pre>{@code
 * CreditAccounts credits = engine.credits();
 * credits.setPrice("gpt-4o-mini", ModelPrice.perThousand("0.15", "0.60"));
 * CreditAccount acme = credits.open(AccountOwner.organization("acme"));
 * credits.topUp(acme.id(), new BigDecimal("2000"), "December plan");
 * credits.setTerms(acme.id(), AccountTerms.every(CreditPeriod.monthly()).resetTo("2000")
 *         .limit(SpendLimit.soft("1500")));
 * }</pre>
 */
public interface CreditAccounts {

    /** Every model's price, by model name. */
    Map<String, ModelPrice> prices();

    /** The price of a model, if it has one. */
    Optional<ModelPrice> price(String model);

    /**
     * Sets a model's price from the next turn on; a turn already reserved keeps the price it reserved at, and the
     * price of every charge is kept in the ledger.
     *
     * @throws InvalidRequestException naming {@code model} when it is not a model name the engine knows
     */
    void setPrice(String model, ModelPrice price);

    /**
     * Opens an account, with a zero balance, for an owner that has none.
     *
     * @throws InvalidRequestException naming {@code owner} when it has one already
     */
    CreditAccount open(AccountOwner owner);

    /**
     * Sets an account's period, renewal and spending limit from now on ({@link AccountTerms}); its balance is
     * unchanged. Setting the terms it has again changes nothing, so a host may set them in code at every start.
     *
     * @throws InvalidRequestException naming {@code accountId} when there is no such account; nothing is stored then
     */
    CreditAccount setTerms(String accountId, AccountTerms terms);

    /** The account with this id, as it stands now. */
    Optional<CreditAccount> account(String accountId);

    /** The account of this owner, as it stands now. */
    Optional<CreditAccount> account(AccountOwner owner);

    /**
     * Adds credits to an account.
     *
     * @throws InvalidRequestException naming {@code amount} when it is not positive or has more than
     *                                 {@link Credits#SCALE} decimals, {@code reason} when it is blank, or
     *                                 {@code accountId} when there is no such account; nothing is stored then
     */
    LedgerEntry topUp(String accountId, BigDecimal amount, String reason);

    /**
     * Adds credits to an account once per {@code requestId}: a repeat of the call with the same id (a retried
     * payment webhook, say) returns the first call's entry and adds nothing. The request id becomes the entry's id.
     *
     * @throws InvalidRequestException as {@link #topUp(String, BigDecimal, String)}, or naming {@code requestId} when
     *                                 it is malformed or was used for another account, kind or amount
     */
    LedgerEntry topUp(String accountId, BigDecimal amount, String reason, String requestId);

    /**
     * Corrects an account's balance up or down.
     *
     * @throws InvalidRequestException naming {@code amount} when it is zero, has more than {@link Credits#SCALE}
     *                                 decimals, or would take the balance below zero or below what live turns hold;
     *                                 {@code reason} when it is blank; {@code accountId} when there is no such
     *                                 account; nothing is stored then
     */
    LedgerEntry adjust(String accountId, BigDecimal amount, String reason);

    /**
     * Corrects an account's balance once per {@code requestId}, as {@link #topUp(String, BigDecimal, String, String)}
     * adds credits once.
     */
    LedgerEntry adjust(String accountId, BigDecimal amount, String reason, String requestId);

    /**
     * An account's ledger, newest first.
     *
     * @throws InvalidRequestException naming {@code accountId} when there is no such account
     */
    Page<LedgerEntry> ledger(String accountId, PageRequest page);
}
