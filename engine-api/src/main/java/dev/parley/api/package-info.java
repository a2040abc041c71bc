/**
 * What a host application calls: the {@link dev.parley.api.ConversationEngine} and its builder, conversations,
 * prompts, replies, pages and the typed {@link dev.parley.api.ParleyException} errors with stable codes.
 *
 * <p>Audience: every host. Types here are stable API; values are immutable and thread safe unless their
 * Javadoc says otherwise.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api;

import org.jspecify.annotations.NullMarked;
