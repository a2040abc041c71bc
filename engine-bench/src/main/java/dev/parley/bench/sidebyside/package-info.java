/**
 * The side-by-side benchmark: a durable chat turn in Parley beside the raw-JDBC minimum, LangChain4j's and
 * Spring AI's JDBC chat memories and Spring AI Session's JDBC store, in one run.
 *
 * <p>Audience: Parley's developers; not a library.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.bench.sidebyside;

import org.jspecify.annotations.NullMarked;
