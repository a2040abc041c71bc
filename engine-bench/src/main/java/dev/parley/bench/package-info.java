/**
 * JMH benchmarks of the turn path against the raw-JDBC minimum.
 *
 * <p>Audience: Parley's developers; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.bench;

import org.jspecify.annotations.NullMarked;
