package dev.parley.store.jdbc.internal;

import dev.parley.api.StoreFailureException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The few statements that H2 and PostgreSQL spell differently; chosen once when the store opens. Not API.
 *
 * <p>Leases (message-id claims and stream locks) are measured by the database server's clock, never by an
 * engine's: every engine sharing the database then agrees on when a lease ends, however far their own clocks
 * drift apart. A statement that sets a lease binds {@code :leaseMs} and writes {@link #leaseEnd()}; one that
 * asks whether a lease still runs compares with {@link #NOW}.
 */
public enum Dialect {
    /** PostgreSQL: a conflicting claim inserts nothing, without an error. */
    POSTGRESQL("(CURRENT_TIMESTAMP + CAST(:leaseMs AS DOUBLE PRECISION) * INTERVAL '1 millisecond')", "day") {
        @Override
        String claimInsert() {
            return "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, claim_token, fingerprint, "
                    + "expires_at) SELECT " + claimValues() + " WHERE NOT EXISTS (SELECT 1 FROM "
                    + "parley_message WHERE conversation_id = :c AND id = :p) ON CONFLICT DO NOTHING";
        }

        @Override
        String streamLockInsert() {
            return "INSERT INTO parley_stream_lock (conversation_id, holder, expires_at, cancel_requested) "
                    + "VALUES (:c, :holder, " + leaseEnd() + ", FALSE) ON CONFLICT DO NOTHING";
        }

        @Override
        String updateReturning(String update, String column) {
            return update + " RETURNING " + column;
        }

        @Override
        public String priceInsertIfAbsent() {
            return "INSERT INTO parley_credit_price (" + CreditDao.PRICE_COLUMNS + ") VALUES (:model, :in, :out, "
                    + ":request, :at) ON CONFLICT (model) DO NOTHING";
        }

        @Override
        public String ledgerPage() {
            return "SELECT " + CreditDao.LEDGER_COLUMNS + " FROM parley_credit_ledger" + CreditDao.LEDGER_PAGE_WHERE;
        }

        @Override
        public @org.jspecify.annotations.Nullable String notDurable() {
            return "SET LOCAL synchronous_commit = off";
        }

        /** One upsert: a missing counter is inserted counting the request; ON CONFLICT locks the row it finds. */
        @Override
        public String rateAdmit() {
            return "INSERT INTO parley_rate_counter AS r (counter_key, window_start, requests, tokens) VALUES (:key, "
                    + RateLimitDao.WINDOW + ", 1, 0) ON CONFLICT (counter_key) DO UPDATE SET "
                    + RateLimitDao.admitSet("r.") + " WHERE " + RateLimitDao.admitCondition("r.") + " RETURNING r.requests";
        }

        @Override
        public String rateAddTokens() {
            return "INSERT INTO parley_rate_counter AS r (counter_key, window_start, requests, tokens) VALUES (:key, "
                    + RateLimitDao.WINDOW + ", 0, :tokens) ON CONFLICT (counter_key) DO UPDATE SET "
                    + RateLimitDao.addTokensSet("r.");
        }

        @Override
        public boolean rateCounterUpserts() {
            return true;
        }
    },
    /**
     * H2, which has no {@code ON CONFLICT}: the insert checks for the row itself. Two claims in the same instant
     * can both pass the check; the unique key then refuses one, which the store reads as "claimed elsewhere".
     */
    H2("DATEADD(MILLISECOND, CAST(:leaseMs AS BIGINT), CURRENT_TIMESTAMP)", "\"DAY\"") {
        @Override
        String claimInsert() {
            return "INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, claim_token, fingerprint, "
                    + "expires_at) SELECT " + claimValues() + " WHERE NOT EXISTS (SELECT 1 FROM "
                    + "parley_turn WHERE conversation_id = :c AND prompt_id = :p) AND NOT EXISTS (SELECT 1 FROM "
                    + "parley_message WHERE conversation_id = :c AND id = :p)";
        }

        @Override
        String streamLockInsert() {
            return "INSERT INTO parley_stream_lock (conversation_id, holder, expires_at, cancel_requested) SELECT "
                    + "CAST(:c AS VARCHAR(128)), CAST(:holder AS VARCHAR(128)), " + leaseEnd() + ", "
                    + "FALSE WHERE NOT EXISTS (SELECT 1 FROM parley_stream_lock WHERE conversation_id = :c)";
        }

        @Override
        String updateReturning(String update, String column) {
            return "SELECT " + column + " FROM FINAL TABLE (" + update + ")";
        }

        @Override
        public String priceInsertIfAbsent() {
            return "INSERT INTO parley_credit_price (" + CreditDao.PRICE_COLUMNS + ") SELECT "
                    + "CAST(:model AS VARCHAR(256)), CAST(:in AS NUMERIC(19, 6)), CAST(:out AS NUMERIC(19, 6)), "
                    + "CAST(:request AS NUMERIC(19, 6)), CAST(:at AS TIMESTAMP WITH TIME ZONE) WHERE NOT EXISTS "
                    + "(SELECT 1 FROM parley_credit_price WHERE model = :model)";
        }

        /** Names the page's index: H2 would rather use the one it made for the foreign key, and sort. */
        @Override
        public String ledgerPage() {
            return "SELECT " + CreditDao.LEDGER_COLUMNS + " FROM parley_credit_ledger "
                    + "USE INDEX (ix_parley_credit_ledger_account)" + CreditDao.LEDGER_PAGE_WHERE;
        }

        /** The counter's row, which {@link RateLimitDao#INSERT_IF_ABSENT} made sure of, updated and returned. */
        @Override
        public String rateAdmit() {
            return updateReturning(RateLimitDao.ADMIT_UPDATE, "requests");
        }

        @Override
        public String rateAddTokens() {
            return RateLimitDao.ADD_TOKENS_UPDATE;
        }

        @Override
        public boolean rateCounterUpserts() {
            return false;
        }
    };

    /** The database's time now, in a condition on a lease: {@code expires_at < NOW} means the lease ran out. */
    static final String NOW = "CURRENT_TIMESTAMP";

    private final String leaseEnd;
    private final String day;

    Dialect(String leaseEnd, String day) {
        this.leaseEnd = leaseEnd;
        this.day = day;
    }

    /**
     * The usage table's day column as this database must spell it: {@code DAY} is a keyword of H2, which names the
     * column only quoted ({@code "DAY"}); PostgreSQL names it plainly ({@code day}). The migration that makes the
     * column spells it so too.
     */
    public final String day() {
        return day;
    }

    /** The end of a lease of {@code :leaseMs} milliseconds from the database's time now. */
    final String leaseEnd() {
        return leaseEnd;
    }

    /** Inserts a stream lock unless the conversation has one (live or expired); 1 row when it did. */
    abstract String streamLockInsert();

    /**
     * {@code update} as a query that returns {@code column} of each updated row, as it is after the update:
     * one statement instead of an update and a read.
     */
    abstract String updateReturning(String update, String column);

    /**
     * Inserts a model's price unless it has one, without failing on PostgreSQL ({@code ON CONFLICT DO NOTHING});
     * on H2 the insert checks for the row itself, and a price inserted in the same instant makes the primary key
     * refuse this one ({@link SqlErrors#isUniqueViolation}), which the caller reads as "the model has a price".
     * 1 row when it inserted.
     */
    public abstract String priceInsertIfAbsent();

    /**
     * The statement that lets the current transaction's commit return before it is durable, for writes a crash may
     * lose (a credit hold: one lost frees its credits early, and its turn's charge is still capped at what each
     * account can pay); null where the database has no such setting per transaction (H2).
     */
    public @org.jspecify.annotations.Nullable String notDurable() {
        return null;
    }

    /**
     * A page of an account's ledger, newest first, ties by id descending: a range of
     * {@code ix_parley_credit_ledger_account} read in its order.
     */
    public abstract String ledgerPage();

    /**
     * Counts one request on a key's counter in one atomic statement, returning its requests when it did and no row
     * when the key refused: the stored window is older than {@code :window} (a new window starts, at one request),
     * or it has requests and tokens below {@code :requestLimit} and {@code :tokenLimit}. On PostgreSQL an
     * {@code INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING}, which inserts a missing counter too; on H2
     * an UPDATE of the row {@link RateLimitDao#INSERT_IF_ABSENT} made sure of, read back through
     * {@code FINAL TABLE}. Either way the row stays locked until the transaction ends.
     */
    public abstract String rateAdmit();

    /**
     * Adds {@code :tokens} to a key's counter of {@code :window} (a counter of an older window starts that one
     * first, at zero requests), in one statement; PostgreSQL inserts a missing counter in it, H2 updates the row
     * {@link RateLimitDao#INSERT_IF_ABSENT} made sure of.
     */
    public abstract String rateAddTokens();

    /** Whether {@link #rateAdmit()} and {@link #rateAddTokens()} insert a missing counter themselves. */
    public abstract boolean rateCounterUpserts();

    /** Inserts a PENDING claim unless the id is claimed, completed, or another message's id; 1 row when it did. */
    abstract String claimInsert();

    /** The typed values of a new claim (both databases need types for parameters in a select list). */
    final String claimValues() {
        return "CAST(:c AS VARCHAR(128)), CAST(:p AS VARCHAR(128)), 'PENDING', "
                + "CAST(:at AS TIMESTAMP WITH TIME ZONE), CAST(:token AS VARCHAR(64)), CAST(:fp AS VARCHAR(64)), "
                + leaseEnd;
    }

    /**
     * The dialect of the database behind {@code dataSource}.
     *
     * @throws StoreFailureException when the database is neither H2 nor PostgreSQL, or cannot be asked
     */
    public static Dialect of(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            String product = c.getMetaData().getDatabaseProductName();
            if (product.toLowerCase(java.util.Locale.ROOT).contains("postgres")) {
                return POSTGRESQL;
            }
            if (product.equalsIgnoreCase("H2")) {
                return H2;
            }
            throw new StoreFailureException("unsupported database " + product + ": Parley runs on H2 and PostgreSQL", null);
        } catch (SQLException e) {
            throw new StoreFailureException("could not read the database's product name", e);
        }
    }
}
