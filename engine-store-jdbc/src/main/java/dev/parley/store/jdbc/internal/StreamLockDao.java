package dev.parley.store.jdbc.internal;

import dev.parley.api.spi.StreamLocks.StreamLock;
import dev.parley.api.spi.StreamLocks.StreamStatus;
import org.jdbi.v3.core.Handle;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Optional;

/**
 * The stream lock protocol: acquire, renew, release, yield, status and cancel, and the fence a send's commit
 * adds. Not API. Thread safe (immutable).
 *
 * <p>A conversation has at most one lock row. Leases are set and judged by the database server's clock (see
 * {@link Dialect}); a lock whose lease ran out stays in its row until another holder takes it over. Every
 * method runs on the caller's {@link Handle}.
 */
public final class StreamLockDao {
    /** A conversation's count of ended streams and its live stream lock, if any (a send reads it first). */
    public static final String STREAM_STATUS = "SELECT c.streams_ended, l.holder, l.expires_at, l.cancel_requested "
            + "FROM parley_conversation c LEFT JOIN parley_stream_lock l ON l.conversation_id = c.id "
            + "AND l.expires_at >= " + Dialect.NOW + " WHERE c.id = :c";
    /** The condition a send's commit adds: no live stream lock, and no stream ended since the send began. */
    static final String STREAM_FENCE = " AND streams_ended = :ended AND NOT EXISTS (SELECT 1 FROM "
            + "parley_stream_lock WHERE conversation_id = :id AND expires_at >= " + Dialect.NOW + ")";
    /** Gives up the lock {@code :holder} has. */
    static final String DELETE = "DELETE FROM parley_stream_lock WHERE conversation_id = :c AND holder = :holder";
    /** Counts a stream as ended, in the transaction of its lock's release. */
    static final String COUNT_ENDED = "UPDATE parley_conversation SET streams_ended = streams_ended + 1 WHERE id = :c";
    /** Asks the live lock's holder to stop, when its holder starts with {@code :prefix} (compared literally). */
    static final String REQUEST_CANCEL = "UPDATE parley_stream_lock SET cancel_requested = TRUE "
            + "WHERE conversation_id = :c AND expires_at >= " + Dialect.NOW + " AND LEFT(holder, :n) = :prefix";

    /** Inserts a lock unless the conversation has a lock row already: {@link Dialect#streamLockInsert()}. */
    private final String insert;
    /** Takes a lock over whose lease has run out; atomic, so one of several engines trying at once gets it. */
    private final String takeOver;
    /** Extends the lease of the lock {@code :holder} has. */
    private final String renew;

    /** The statements spelled for {@code dialect}. */
    public StreamLockDao(Dialect dialect) {
        this.insert = dialect.streamLockInsert();
        this.takeOver = "UPDATE parley_stream_lock SET holder = :holder, "
                + "expires_at = " + dialect.leaseEnd() + ", cancel_requested = FALSE WHERE conversation_id = :c "
                + "AND expires_at < " + Dialect.NOW;
        this.renew = "UPDATE parley_stream_lock SET expires_at = "
                + dialect.leaseEnd() + " WHERE conversation_id = :c AND holder = :holder";
    }

    /**
     * Inserts a lock for {@code holder}; 1 when it did, 0 without failing when the conversation has a lock row
     * already (live or expired). On H2 two inserts in the same instant may both try: the primary key then refuses
     * one ({@link SqlErrors#isUniqueViolation}); a missing conversation is a foreign key violation.
     */
    public int insert(Handle h, String conversationId, String holder, Duration lease) {
        return h.createUpdate(insert)
                .bind("c", conversationId)
                .bind("holder", holder)
                .bind("leaseMs", lease.toMillis())
                .execute();
    }

    /** Takes the lock over for {@code holder} when its lease has run out; whether it did. */
    public boolean takeOver(Handle h, String conversationId, String holder, Duration lease) {
        return h.createUpdate(takeOver)
                .bind("holder", holder)
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .execute() == 1;
    }

    /** Extends the lease of the lock {@code holder} has; false when it has none. */
    public boolean renew(Handle h, String conversationId, String holder, Duration lease) {
        return h.createUpdate(renew)
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .bind("holder", holder)
                .execute() == 1;
    }

    /**
     * Gives up the lock {@code holder} has and, if it had it, counts the conversation's stream as ended. The
     * caller runs both in one transaction, so that a send that ran beside this stream and commits later sees the
     * count changed.
     */
    public void release(Handle h, String conversationId, String holder) {
        if (delete(h, conversationId, holder) == 1) {
            h.createUpdate(COUNT_ENDED)
                    .bind("c", conversationId)
                    .execute();
        }
    }

    /** Gives up the lock {@code holder} has without counting a stream as ended; 1 when it had it. */
    public int delete(Handle h, String conversationId, String holder) {
        return h.createUpdate(DELETE)
                .bind("c", conversationId)
                .bind("holder", holder)
                .execute();
    }

    /** The conversation's count of ended streams and its live lock, in one statement so that they agree. */
    public StreamStatus status(Handle h, String conversationId) {
        return h.createQuery(STREAM_STATUS)
                .bind("c", conversationId)
                .map((rs, ctx) -> {
                    String holder = rs.getString("holder");
                    Optional<StreamLock> lock = holder == null ? Optional.empty() : Optional.of(new StreamLock(
                            conversationId, holder, rs.getObject("expires_at", OffsetDateTime.class).toInstant(),
                            rs.getBoolean("cancel_requested")));
                    return new StreamStatus(rs.getLong("streams_ended"), lock);
                })
                .findOne()
                .orElseGet(() -> new StreamStatus(0, Optional.empty()));
    }

    /** Asks the live lock's holder to stop when its holder starts with {@code holderPrefix}; whether it asked. */
    public boolean requestCancel(Handle h, String conversationId, String holderPrefix) {
        return h.createUpdate(REQUEST_CANCEL)
                .bind("c", conversationId)
                .bind("n", holderPrefix.length())
                .bind("prefix", holderPrefix)
                .execute() == 1;
    }
}
