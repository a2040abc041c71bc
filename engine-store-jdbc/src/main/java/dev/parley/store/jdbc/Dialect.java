package dev.parley.store.jdbc;

import dev.parley.api.StoreFailureException;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/** The few statements that H2 and PostgreSQL spell differently; chosen once when the store opens. */
enum Dialect {
    /** PostgreSQL: a conflicting claim inserts nothing, without an error. */
    POSTGRESQL("INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, claim_token, fingerprint, "
            + "expires_at) SELECT " + Values.CLAIM + " WHERE NOT EXISTS (SELECT 1 FROM "
            + "parley_message WHERE conversation_id = :c AND id = :p) ON CONFLICT DO NOTHING",
            "INSERT INTO parley_stream_lock (conversation_id, holder, expires_at, cancel_requested) "
                    + "VALUES (:c, :holder, :until, FALSE) ON CONFLICT DO NOTHING"),
    /**
     * H2, which has no {@code ON CONFLICT}: the insert checks for the row itself. Two claims in the same instant
     * can both pass the check; the unique key then refuses one, which the store reads as "claimed elsewhere".
     */
    H2("INSERT INTO parley_turn (conversation_id, prompt_id, status, claimed_at, claim_token, fingerprint, "
            + "expires_at) SELECT " + Values.CLAIM + " WHERE NOT EXISTS (SELECT 1 FROM "
            + "parley_turn WHERE conversation_id = :c AND prompt_id = :p) AND NOT EXISTS (SELECT 1 FROM "
            + "parley_message WHERE conversation_id = :c AND id = :p)",
            "INSERT INTO parley_stream_lock (conversation_id, holder, expires_at, cancel_requested) SELECT "
                    + "CAST(:c AS VARCHAR(128)), CAST(:holder AS VARCHAR(128)), CAST(:until AS TIMESTAMP WITH TIME ZONE), "
                    + "FALSE WHERE NOT EXISTS (SELECT 1 FROM parley_stream_lock WHERE conversation_id = :c)");

    private final String claimInsert;
    private final String streamLockInsert;

    Dialect(String claimInsert, String streamLockInsert) {
        this.claimInsert = claimInsert;
        this.streamLockInsert = streamLockInsert;
    }

    /** Inserts a stream lock unless the conversation has one (live or expired); 1 row when it did. */
    String streamLockInsert() {
        return streamLockInsert;
    }

    /** Inserts a PENDING claim unless the id is claimed, completed, or another message's id; 1 row when it did. */
    String claimInsert() {
        return claimInsert;
    }

    static Dialect of(DataSource dataSource) {
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

    /** The typed values of a new claim (both databases need types for parameters in a select list). */
    private static final class Values {
        static final String CLAIM = "CAST(:c AS VARCHAR(128)), CAST(:p AS VARCHAR(128)), 'PENDING', "
                + "CAST(:at AS TIMESTAMP WITH TIME ZONE), CAST(:token AS VARCHAR(64)), CAST(:fp AS VARCHAR(64)), "
                + "CAST(:until AS TIMESTAMP WITH TIME ZONE)";
    }
}
