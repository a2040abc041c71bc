/**
 * The engine's default parts a host may name: the default pipeline stages, the in-memory store and the
 * LangChain4j model adapter.
 *
 * <p>Audience: hosts that rearrange the pipeline or adapt a LangChain4j model. The engine itself is found
 * through {@link dev.parley.api.ConversationEngine#builder()}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.core;

import org.jspecify.annotations.NullMarked;
