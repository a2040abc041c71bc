package dev.parley.store.jdbc.internal;

import dev.parley.api.values.RateWindow;
import org.jdbi.v3.core.Handle;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The statements of the rate-limit counters ({@code parley_rate_counter}): an admission and a stored turn's tokens.
 * Not API. Thread safe (immutable).
 *
 * <p>A counter is one row per key, of the latest window any engine counted in. Each key's change is one atomic
 * statement ({@link Dialect#rateAdmit()}, {@link Dialect#rateAddTokens()}) that locks the row until the caller's
 * transaction ends, so that of engines admitting on the same key at once, each sees the count the one before it
 * left, and between them they admit at most the limit. The keys of one call are changed in Java's order of the
 * strings (the same in every engine), so that two transactions on overlapping keys never wait on each other in a
 * cycle. A counter whose stored window is older than the one asked about starts the new one; one whose window is
 * newer (an engine whose clock runs behind another's) is counted in that newer window, never moved back. Every
 * method runs on the caller's {@link Handle}, the changes in the caller's one transaction.
 */
public final class RateLimitDao {
    /** The window bound as {@code :window}, typed (H2 needs a type for a parameter in a CASE or a select list). */
    static final String WINDOW = "CAST(:window AS TIMESTAMP)";
    /**
     * Inserts a key's counter, of {@code :window} at zero, unless the key has one: what H2 runs before it changes a
     * counter. A counter inserted by another transaction in the same instant makes the primary key refuse this one
     * ({@link SqlErrors#isUniqueViolation}), which leaves the counter there all the same.
     */
    public static final String INSERT_IF_ABSENT = "INSERT INTO parley_rate_counter (counter_key, window_start, "
            + "requests, tokens) SELECT CAST(:key AS VARCHAR(400)), " + WINDOW + ", 0, 0 WHERE NOT EXISTS "
            + "(SELECT 1 FROM parley_rate_counter WHERE counter_key = :key)";
    /** H2's admission of one key: the counter's row, by its primary key, updated when the key admits. */
    public static final String ADMIT_UPDATE = "UPDATE parley_rate_counter SET " + admitSet("")
            + " WHERE counter_key = :key AND (" + admitCondition("") + ")";
    /** H2's tokens added to one key's counter: its row, by its primary key. */
    public static final String ADD_TOKENS_UPDATE = "UPDATE parley_rate_counter SET " + addTokensSet("")
            + " WHERE counter_key = :key";
    /** Whether a key has a counter (1) or not (0): primary key. */
    static final String COUNTER_COUNT = "SELECT COUNT(*) FROM parley_rate_counter WHERE counter_key = :key";
    /** How often a change that found no counter tries again (another transaction's new counter rolled back). */
    private static final int ATTEMPTS = 10;

    private final String admit;
    private final String addTokens;
    private final boolean upserts;

    public RateLimitDao(Dialect dialect) {
        this.admit = dialect.rateAdmit();
        this.addTokens = dialect.rateAddTokens();
        this.upserts = dialect.rateCounterUpserts();
    }

    /** The statement that counts a request on one key, as this database spells it. */
    public String admitStatement() {
        return admit;
    }

    /** The statement that adds tokens to one key's counter, as this database spells it. */
    public String addTokensStatement() {
        return addTokens;
    }

    /** The SET of an admission: a counter of an older window starts {@code :window} at one request. */
    static String admitSet(String row) {
        String older = row + "window_start < " + WINDOW;
        return "window_start = CASE WHEN " + older + " THEN " + WINDOW + " ELSE " + row + "window_start END, "
                + "requests = CASE WHEN " + older + " THEN 1 ELSE " + row + "requests + 1 END, "
                + "tokens = CASE WHEN " + older + " THEN 0 ELSE " + row + "tokens END";
    }

    /** When an admission counts: a new window, or requests and tokens below the limits (a limit of 0 bound as none). */
    static String admitCondition(String row) {
        return row + "window_start < " + WINDOW + " OR (" + row + "requests < :requestLimit AND " + row
                + "tokens < :tokenLimit)";
    }

    /** The SET that adds {@code :tokens}: a counter of an older window starts {@code :window} at zero requests. */
    static String addTokensSet(String row) {
        String older = row + "window_start < " + WINDOW;
        return "window_start = CASE WHEN " + older + " THEN " + WINDOW + " ELSE " + row + "window_start END, "
                + "requests = CASE WHEN " + older + " THEN 0 ELSE " + row + "requests END, "
                + "tokens = CASE WHEN " + older + " THEN :tokens ELSE " + row + "tokens + :tokens END";
    }

    /**
     * Counts one request on every key, in the caller's transaction, each key's counter changed by one atomic
     * statement in Java's order of the keys. Every key is tried; the caller rolls the transaction back when one
     * refused, so that nothing is counted then.
     *
     * @return empty when every key admitted; else the first key, in the given order, that refused
     */
    public Optional<String> admit(Handle h, List<RateWindow> windows, Instant windowStart) {
        LocalDateTime window = window(windowStart);
        List<RateWindow> ordered = new ArrayList<>(windows);
        ordered.sort(Comparator.comparing(RateWindow::key));
        List<String> refused = new ArrayList<>();
        for (RateWindow w : ordered) {
            if (!admitOne(h, w, window)) {
                refused.add(w.key());
            }
        }
        for (RateWindow w : windows) {
            if (refused.contains(w.key())) {
                return Optional.of(w.key());
            }
        }
        return Optional.empty();
    }

    private boolean admitOne(Handle h, RateWindow w, LocalDateTime window) {
        for (int attempt = 0; ; attempt++) {
            if (!upserts) {
                insertIfAbsent(h, w.key(), window);
            }
            boolean counted = h.createQuery(admit)
                    .bind("key", w.key())
                    .bind("window", window)
                    .bind("requestLimit", limit(w.requestLimit()))
                    .bind("tokenLimit", limit(w.tokenLimit()))
                    .mapTo(Long.class)
                    .findOne()
                    .isPresent();
            // No row back: the key refused, or (H2) the counter this transaction waited on was another one's new
            // row, rolled back with it; then it is inserted again.
            if (counted || upserts || attempt >= ATTEMPTS || exists(h, w.key())) {
                return counted;
            }
        }
    }

    /** Adds {@code tokens} to every key's counter of the window, in the caller's transaction, in Java's key order. */
    public void addTokens(Handle h, List<String> keys, long tokens, Instant windowStart) {
        LocalDateTime window = window(windowStart);
        List<String> ordered = new ArrayList<>(keys);
        ordered.sort(null);
        for (String key : ordered) {
            for (int attempt = 0; ; attempt++) {
                if (!upserts) {
                    insertIfAbsent(h, key, window);
                }
                int changed = h.createUpdate(addTokens)
                        .bind("key", key)
                        .bind("window", window)
                        .bind("tokens", tokens)
                        .execute();
                if (changed > 0 || attempt >= ATTEMPTS) {
                    break;
                }
            }
        }
    }

    private static void insertIfAbsent(Handle h, String key, LocalDateTime window) {
        try {
            h.createUpdate(INSERT_IF_ABSENT).bind("key", key).bind("window", window).execute();
        } catch (RuntimeException e) {
            if (!SqlErrors.isUniqueViolation(e)) {
                throw e;
            }
            // Inserted by another transaction in the same instant: the update below waits for its lock.
        }
    }

    private static boolean exists(Handle h, String key) {
        return h.createQuery(COUNTER_COUNT).bind("key", key).mapTo(Long.class).one() > 0;
    }

    /** A limit as the statements compare with it: 0 (no limit) as a count no counter reaches. */
    private static long limit(long limit) {
        return limit == 0 ? Long.MAX_VALUE : limit;
    }

    /** A window's start as the counters keep it: UTC, without a zone. */
    static LocalDateTime window(Instant windowStart) {
        return LocalDateTime.ofInstant(windowStart, ZoneOffset.UTC);
    }
}
