/**
 * Credits: what a model's tokens cost ({@link dev.parley.api.credits.ModelPrice}), the accounts turns are charged
 * to ({@link dev.parley.api.credits.CreditAccount}, owned by an {@link dev.parley.api.credits.AccountOwner}), the
 * ledger that is every account's history ({@link dev.parley.api.credits.LedgerEntry}), and the hold a turn
 * reserves before its model call ({@link dev.parley.api.credits.CreditHold}) and settles in its own commit
 * ({@link dev.parley.api.credits.TurnCharge}).
 *
 * <p>The promise: exact decimal credits ({@link java.math.BigDecimal} at {@link dev.parley.api.Credits#SCALE}
 * decimals), never below zero, across every engine sharing a store, under any concurrency, on every terminal path
 * of a turn. A turn reserves the most it can cost (its counted input tokens and its maximum output tokens, priced)
 * on every account that applies, in one transaction, or is refused with
 * {@link dev.parley.api.BudgetExceededException} before any model call; its commit charges the real cost and
 * frees the rest; a turn that stores nothing frees its hold, and a hold left by an engine that died expires after
 * its lease.
 *
 * <p>Audience: hosts that bill their users ({@link dev.parley.api.CreditAccounts}), and store implementers
 * ({@link dev.parley.api.spi.CreditLedger}).
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.credits;

import org.jspecify.annotations.NullMarked;
