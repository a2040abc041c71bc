/**
 * The JDBC store's implementation: row mapping, statements and SQL error translation.
 *
 * <p>Audience: this module only. Nothing here is API; it may change in any release.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.store.jdbc.internal;

import org.jspecify.annotations.NullMarked;
