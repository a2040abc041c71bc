/**
 * Governance: what a policy finds ({@link dev.parley.api.policy.Finding}), how a host configures one
 * ({@link dev.parley.api.policy.PolicyRule}: its action, phases, fail mode, time budget and scope, gathered in a
 * {@link dev.parley.api.policy.PolicySet}), and what the engine records of it
 * ({@link dev.parley.api.policy.PolicyOutcome} on every reply, {@link dev.parley.api.policy.Violation} in the store).
 * Policies themselves implement {@link dev.parley.api.spi.Policy}; engine-policy has the built-in ones.
 *
 * <p>The promise: no text reaches the model or the caller before every policy configured for that phase has seen
 * it. PRE policies check the prompt and the turn's additional context before anything is sent to the model;
 * DURING policies check a streamed reply before the caller's listener receives it, holding back the tail that a
 * policy could still be matching; POST policies check the whole reply before it is returned and stored.
 *
 * <p>Audience: hosts configuring governance, and implementers of {@link dev.parley.api.spi.Policy}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.policy;

import org.jspecify.annotations.NullMarked;
