/**
 * The JDBC store's implementation: row mapping, statements and SQL error translation.
 *
 * <p>The statements are grouped by concern into DAOs ({@link dev.parley.store.jdbc.internal.ConversationDao},
 * {@link dev.parley.store.jdbc.internal.MessageDao}, {@link dev.parley.store.jdbc.internal.TurnDao},
 * {@link dev.parley.store.jdbc.internal.StreamLockDao}, {@link dev.parley.store.jdbc.internal.AuditDao},
 * {@link dev.parley.store.jdbc.internal.ViolationDao}, {@link dev.parley.store.jdbc.internal.PolicyDao},
 * {@link dev.parley.store.jdbc.internal.CreditDao},
 * {@link dev.parley.store.jdbc.internal.RateLimitDao}, {@link dev.parley.store.jdbc.internal.UsageDao}), each
 * running on the caller's JDBI handle, so that the store opens one handle or transaction per operation and a
 * turn stays one transaction across them. Beside them: {@link dev.parley.store.jdbc.internal.SqlErrors},
 * {@link dev.parley.store.jdbc.internal.StorePools}, {@link dev.parley.store.jdbc.internal.Migrations} and
 * {@link dev.parley.store.jdbc.internal.SettingsCache}.
 *
 * <p>Audience: this module only. Nothing here is API; it may change in any release.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.store.jdbc.internal;

import org.jspecify.annotations.NullMarked;
