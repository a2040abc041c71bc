package dev.parley.store.jdbc.internal;

import dev.parley.api.Credits;
import dev.parley.api.credits.CreditHold;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import org.jspecify.annotations.Nullable;

/**
 * The live credit holds of an embedded H2 database, kept in this JVM instead of its hold table: every engine on an
 * embedded database is in the JVM that opened it (H2 locks the file against other processes), so holds need not
 * be written, and a reservation costs the database no commit. Holds die with the JVM, as holds of a dead engine
 * lapse anyway. One instance per database, shared by every store that opens it ({@link #of}). Not API.
 *
 * <p>Each account has a lock here. Whoever changes an account's balance or reserves on it takes the locks of its
 * accounts first, in the order of their ids, and keeps them until its transaction has ended (see the store): a
 * reservation reads the balance and the holds, and adds its own, as one step against every balance change, and a
 * turn's commit frees its hold only once the charge is committed. A lock is taken before any database lock and
 * never while one is held, so the two kinds never wait on each other in a cycle. Thread safe.
 */
public final class LocalHolds {
    private static final BigDecimal ZERO = BigDecimal.ZERO.setScale(Credits.SCALE);
    private static final Map<String, LocalHolds> DATABASES = new ConcurrentHashMap<>();

    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final Map<String, Held> holds = new ConcurrentHashMap<>();

    private static final class Held {
        final List<String> accounts;
        final BigDecimal amount;
        volatile Instant expiresAt;

        Held(List<String> accounts, BigDecimal amount, Instant expiresAt) {
            this.accounts = accounts;
            this.amount = amount;
            this.expiresAt = expiresAt;
        }
    }

    private LocalHolds() {
    }

    /** The holds of the embedded database named {@code database} (its file's absolute path, or its memory name). */
    public static LocalHolds of(String database) {
        return DATABASES.computeIfAbsent(database, k -> new LocalHolds());
    }

    /** Locks of some accounts, held until {@link #close()}. */
    public static final class Locked implements AutoCloseable {
        /** No lock: what a store whose holds the database keeps takes. */
        public static final Locked NONE = new Locked(List.of());

        private final List<ReentrantLock> held;

        private Locked(List<ReentrantLock> held) {
            this.held = held;
        }

        /** Unlocks, in the reverse order. */
        @Override
        public void close() {
            for (int i = held.size() - 1; i >= 0; i--) {
                held.get(i).unlock();
            }
        }
    }

    /** Takes the locks of {@code accounts}, in the order of their ids. */
    public Locked lock(Collection<String> accounts) {
        List<String> ordered = new ArrayList<>(accounts);
        ordered.sort(null);
        List<ReentrantLock> taken = new ArrayList<>(ordered.size());
        try {
            String last = null;
            for (String id : ordered) {
                if (id.equals(last)) {
                    continue;
                }
                ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
                lock.lock();
                taken.add(lock);
                last = id;
            }
        } catch (RuntimeException | Error e) {
            new Locked(taken).close();
            throw e;
        }
        return new Locked(taken);
    }

    /**
     * What live holds reserve at {@code at} on each of {@code accounts} that has any, but {@code except}; drops the
     * holds that lapsed.
     */
    public Map<String, BigDecimal> held(List<String> accounts, Instant at, @Nullable String except) {
        Map<String, BigDecimal> sums = new HashMap<>();
        for (var e : holds.entrySet()) {
            Held h = e.getValue();
            if (h.expiresAt.isBefore(at)) {
                holds.remove(e.getKey(), h);
                continue;
            }
            if (e.getKey().equals(except)) {
                continue;
            }
            for (String account : h.accounts) {
                if (accounts.contains(account)) {
                    sums.merge(account, h.amount, BigDecimal::add);
                }
            }
        }
        return sums;
    }

    /** What live holds reserve on one account at {@code at}. */
    public BigDecimal held(String account, Instant at) {
        return held(List.of(account), at, null).getOrDefault(account, ZERO);
    }

    /** Keeps a new hold; the caller holds its accounts' locks. */
    public void add(CreditHold hold) {
        holds.put(hold.id(), new Held(hold.accountIds(), hold.amount(), hold.expiresAt()));
    }

    /** Extends a hold live at {@code at} to {@code at + lease}; false when it is gone or lapsed. */
    public boolean renew(String holdId, Instant at, Duration lease) {
        Held h = holds.get(holdId);
        if (h == null || h.expiresAt.isBefore(at)) {
            return false;
        }
        h.expiresAt = at.plus(lease).truncatedTo(ChronoUnit.MICROS);
        return true;
    }

    /** Frees a hold; nothing when it is gone. */
    public void release(String holdId) {
        holds.remove(holdId);
    }
}
