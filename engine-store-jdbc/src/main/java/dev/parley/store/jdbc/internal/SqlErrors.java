package dev.parley.store.jdbc.internal;

import dev.parley.api.ParleyException;
import dev.parley.api.StoreFailureException;
import org.jdbi.v3.core.JdbiException;
import org.jspecify.annotations.Nullable;

import java.sql.SQLException;
import java.util.function.Function;

/**
 * Classifies SQL errors of H2 and PostgreSQL by SQLState and translates what escapes a store's work into
 * {@link StoreFailureException}. Not API. Stateless.
 *
 * <p>The two databases agree on a unique key's violation ({@value #UNIQUE_VIOLATION}) but not on a missing
 * foreign key parent: PostgreSQL reports {@value #FOREIGN_KEY_VIOLATION}, H2 {@value #H2_PARENT_MISSING} (H2
 * uses {@value #FOREIGN_KEY_VIOLATION} for a child row that still exists). Every check walks the cause chain,
 * so that it sees the driver's {@link SQLException} behind JDBI's exception and behind a
 * {@link StoreFailureException} made of it.
 *
 * <p>A translated failure's message names the operation only; the cause (a JDBI statement exception, which the
 * store configures to render no SQL and no arguments) is attached, so no user text reaches the message.
 */
public final class SqlErrors {
    /** A unique key refused a row: both databases' state. */
    public static final String UNIQUE_VIOLATION = "23505";
    /** A foreign key's parent row is missing: PostgreSQL's state. */
    public static final String FOREIGN_KEY_VIOLATION = "23503";
    /** A foreign key's parent row is missing: H2's state (H2 uses 23503 for a child row that still exists). */
    public static final String H2_PARENT_MISSING = "23506";

    private SqlErrors() {
    }

    /** Whether a unique key refused the statement behind {@code e}. */
    public static boolean isUniqueViolation(Throwable e) {
        return hasSqlState(e, UNIQUE_VIOLATION);
    }

    /** Whether the statement behind {@code e} named a parent row that does not exist, on either database. */
    public static boolean isForeignKeyViolation(Throwable e) {
        return hasSqlState(e, FOREIGN_KEY_VIOLATION) || hasSqlState(e, H2_PARENT_MISSING);
    }

    /** Whether {@code e} or one of its causes is an {@link SQLException} with SQLState {@code state}. */
    public static boolean hasSqlState(Throwable e, String state) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && state.equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /**
     * What a caller sees of {@code e}, which escaped the store's attempt to {@code what}: a {@link ParleyException}
     * as it is (a typed error the work threw on purpose), anything else a {@link StoreFailureException} with
     * {@code e} as its cause. Besides database failures, that includes rows that cannot be read back (an unknown
     * status, a reply missing behind a completed claim): the caller's request was fine, the stored data or the
     * database was not.
     */
    public static ParleyException translate(String what, RuntimeException e) {
        return translate(what, e, jdbi -> null);
    }

    /**
     * As {@link #translate(String, RuntimeException)}, except that a database failure ({@link JdbiException})
     * for which {@code typed} returns an error is that error instead.
     */
    public static ParleyException translate(String what, RuntimeException e,
                                            Function<JdbiException, @Nullable ParleyException> typed) {
        if (e instanceof ParleyException parley) {
            return parley;
        }
        if (e instanceof JdbiException jdbi) {
            ParleyException error = typed.apply(jdbi);
            if (error != null) {
                return error;
            }
        }
        return failure(what, e);
    }

    /** The store failure of an attempt to {@code what}, with its cause. */
    public static StoreFailureException failure(String what, Throwable cause) {
        return new StoreFailureException("the store could not " + what, cause);
    }
}
