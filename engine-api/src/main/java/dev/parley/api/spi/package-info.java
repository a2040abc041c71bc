/**
 * What a host implements to extend Parley: stores ({@link dev.parley.api.spi.ConversationStore} and the
 * focused interfaces it joins), models, pipeline stages, stream filters, policies, token counters, steering
 * resolvers, scope directories, event sinks and engine listeners.
 *
 * <p>Audience: hosts and integrations that implement these interfaces. Methods for which doing nothing is a
 * sensible answer have default methods, so that a later release can add a method without breaking an
 * implementation. The values the engine passes to these implementations live in {@link dev.parley.api.values}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.spi;

import org.jspecify.annotations.NullMarked;
