/**
 * A terminal chat on Parley.
 *
 * <p>Audience: people reading how to use Parley; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.samples.console;

import org.jspecify.annotations.NullMarked;
