/**
 * Test support for hosts: the {@link dev.parley.testing.ScriptedModel} that answers from a script, and the
 * {@link dev.parley.testing.ConversationStoreContract} every store implementation should pass.
 *
 * <p>Audience: hosts' unit tests and store implementers.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.testing;

import org.jspecify.annotations.NullMarked;
