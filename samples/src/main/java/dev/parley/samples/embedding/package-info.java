/**
 * Parley embedded in a host application: {@link dev.parley.samples.embedding.SupportAssistant}, a support desk's
 * assistant written the way a host writes its own code on Parley, to be copied, and its unit test beside it.
 *
 * <p>Audience: people reading how to use Parley; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.embedding;

import org.jspecify.annotations.NullMarked;
