/**
 * Usage reports: the tokens and credits of settled turns (stored, or blocked by a policy), summed per day and per
 * conversation, user, workspace or model ({@link dev.parley.api.usage.UsageQuery},
 * {@link dev.parley.api.usage.UsageRow}), read from the store's usage ledger: one
 * {@link dev.parley.api.usage.UsageEntry} per settled turn, written in the turn's own transaction, metered or not.
 *
 * <p>Two input counts are kept, because hosts show both: {@code promptTokens}, the stored user messages' own counts
 * (what the users typed), and {@code tokensIn}, the input of the model requests (history, context and prompt:
 * what the provider bills). {@code tokensOut} is the replies'.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.usage;

import org.jspecify.annotations.NullMarked;
