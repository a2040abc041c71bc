/**
 * The JDBC conversation store on H2 and PostgreSQL: {@link dev.parley.store.jdbc.JdbcConversationStore}, with
 * its schema migrations and connection pool.
 *
 * <p>Audience: hosts that keep conversations in a database.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.store.jdbc;

import org.jspecify.annotations.NullMarked;
