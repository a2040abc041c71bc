package dev.parley.store.jdbc.internal;

import dev.parley.api.Credits;
import dev.parley.api.Usage;
import dev.parley.api.compaction.Summary;
import dev.parley.api.credits.TurnCharge;
import dev.parley.api.usage.UsageEntry;
import dev.parley.api.values.AuditEvent;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;

/**
 * The statements of summaries and of the compaction claim. Not API. Thread safe (immutable).
 *
 * <p>A conversation's claim is its {@code parley_compaction} row, fenced by a random token and leased by the
 * database's clock ({@link Dialect}), as a message id's claim is. A summary's commit runs, in the caller's one
 * transaction, its own checks and insert, the claim's end, {@link CreditDao#settle} for a charge, {@link UsageDao}
 * for the usage entry and {@link AuditDao} for the event. Every method runs on the caller's {@link Handle}.
 */
public final class SummaryDao {
    static final String COLUMNS = "id, conversation_id, from_seq, to_seq, body, tokens, model, usage_in, usage_out, "
            + "credits_metered, credits_used, credits_remaining, credits_account, created_at";
    /** A live conversation's summary covering the most: the range key, newest first. */
    public static final String LATEST = "SELECT " + COLUMNS.replaceAll("(\\w+)", "s.$1") + " FROM parley_summary s "
            + "JOIN parley_conversation c ON c.id = s.conversation_id AND c.deleted_at IS NULL "
            + "WHERE s.conversation_id = :c ORDER BY s.to_seq DESC LIMIT 1";
    static final String ALL = "SELECT " + COLUMNS.replaceAll("(\\w+)", "s.$1") + " FROM parley_summary s "
            + "JOIN parley_conversation c ON c.id = s.conversation_id AND c.deleted_at IS NULL "
            + "WHERE s.conversation_id = :c ORDER BY s.to_seq";
    static final String INSERT = "INSERT INTO parley_summary (" + COLUMNS + ") VALUES (:id, :c, :from, :to, :body, "
            + ":tokens, :model, :in, :out, :metered, :used, :remaining, :account, :at)";
    /**
     * The live conversation's message count, its row locked until the commit: turns and summaries of a conversation
     * commit one after the other, as the usage ledger's day rows need.
     */
    static final String LOCK_LIVE = "SELECT message_count FROM parley_conversation WHERE id = :c "
            + "AND deleted_at IS NULL FOR UPDATE";
    /** The most a summary of the conversation covers so far. */
    public static final String COVERED = "SELECT MAX(to_seq) FROM parley_summary WHERE conversation_id = :c";
    /** The failures of the claim a token holds, its row locked until the commit. */
    static final String HELD_FAILURES = "SELECT failures FROM parley_compaction WHERE conversation_id = :c "
            + "AND claim_token = :token FOR UPDATE";
    /** A claim row for a live conversation that has none (the primary key refuses one inserted meanwhile). */
    static final String INSERT_CLAIM_PREFIX = "INSERT INTO parley_compaction (conversation_id, claim_token, "
            + "expires_at, retry_at, failures) SELECT id, :token, ";
    static final String END = "UPDATE parley_compaction SET claim_token = NULL, expires_at = NULL "
            + "WHERE conversation_id = :c AND claim_token = :token";
    public static final String DONE = "UPDATE parley_compaction SET claim_token = NULL, expires_at = NULL, retry_at = NULL, "
            + "failures = 0 WHERE conversation_id = :c AND claim_token = :token";
    static final String DELETE_SUMMARIES = "DELETE FROM parley_summary WHERE conversation_id = :c";
    /** Counts a change to the conversation's summaries, which its first read on a turn returns. */
    public static final String CHANGED = "UPDATE parley_conversation SET summaries_version = summaries_version + 1 "
            + "WHERE id = :c";
    static final String DELETE_CLAIM = "DELETE FROM parley_compaction WHERE conversation_id = :c";

    private static final RowMapper<Summary> SUMMARY = (rs, ctx) -> {
        boolean metered = rs.getBoolean("credits_metered");
        Credits credits = metered ? Credits.charged(Rows.amount(rs, "credits_used"), Rows.amount(rs,
                "credits_remaining"), rs.getString("credits_account")) : Credits.unmetered();
        return new Summary(rs.getString("id"), rs.getString("conversation_id"), rs.getLong("from_seq"),
                rs.getLong("to_seq"), rs.getString("body"), rs.getInt("tokens"), rs.getString("model"),
                new Usage(rs.getLong("usage_in"), rs.getLong("usage_out")), credits,
                rs.getObject("created_at", OffsetDateTime.class).toInstant());
    };

    /** Takes a claim that is free, lapsed, and not deferred: compare-and-set on the row. */
    private final String take;
    private final String insertClaim;
    private final String renew;
    private final String fail;
    private final Dialect dialect;
    private final CreditDao credits;
    private final UsageDao usage;
    private final AuditDao audit;

    public SummaryDao(Dialect dialect, CreditDao credits, UsageDao usage, AuditDao audit) {
        this.credits = credits;
        this.usage = usage;
        this.audit = audit;
        this.take = "UPDATE parley_compaction SET claim_token = :token, expires_at = " + dialect.leaseEnd()
                + " WHERE conversation_id = :c AND (claim_token IS NULL OR expires_at < " + Dialect.NOW + ") "
                + "AND (retry_at IS NULL OR retry_at <= " + Dialect.NOW + ") AND EXISTS (SELECT 1 FROM "
                + "parley_conversation WHERE id = :c AND deleted_at IS NULL)";
        this.insertClaim = INSERT_CLAIM_PREFIX + dialect.leaseEnd() + ", NULL, 0 FROM parley_conversation "
                + "WHERE id = :c AND deleted_at IS NULL AND NOT EXISTS (SELECT 1 FROM parley_compaction "
                + "WHERE conversation_id = :c)";
        this.renew = "UPDATE parley_compaction SET expires_at = " + dialect.leaseEnd()
                + " WHERE conversation_id = :c AND claim_token = :token";
        this.fail = "UPDATE parley_compaction SET claim_token = NULL, expires_at = NULL, retry_at = "
                + dialect.leaseEnd() + ", failures = failures + 1 WHERE conversation_id = :c AND claim_token = :token";
        this.dialect = dialect;
    }

    public Optional<Summary> latest(Handle h, String conversationId) {
        return h.createQuery(LATEST).bind("c", conversationId).map(SUMMARY).findOne();
    }

    public List<Summary> all(Handle h, String conversationId) {
        return h.createQuery(ALL).bind("c", conversationId).map(SUMMARY).list();
    }

    /** Takes the conversation's existing claim row if it is free; whether it did. */
    public boolean take(Handle h, String conversationId, String token, Duration lease) {
        return h.createUpdate(take).bind("c", conversationId).bind("token", token).bind("leaseMs", lease.toMillis())
                .execute() == 1;
    }

    /**
     * Inserts the conversation's first claim row, held under {@code token}: 1 when it did, 0 when the conversation
     * is not live or has a claim row. A row inserted in the same instant by another engine is a unique violation.
     */
    public int insertClaim(Handle h, String conversationId, String token, Duration lease) {
        return h.createUpdate(insertClaim).bind("c", conversationId).bind("token", token)
                .bind("leaseMs", lease.toMillis()).execute();
    }

    public boolean renew(Handle h, String conversationId, String token, Duration lease) {
        return h.createUpdate(renew).bind("c", conversationId).bind("token", token).bind("leaseMs", lease.toMillis())
                .execute() == 1;
    }

    /**
     * Ends a failed compaction's claim, deferring the next by {@code retryAfter} doubled for each earlier failure
     * (at most 64 times), and, for a call that was made, charges and meters it with the event; in the caller's
     * transaction, with the claim's row and then the conversation's locked.
     *
     * @return what the call was charged
     */
    public Credits fail(Handle h, String conversationId, String token, Duration retryAfter, AuditEvent event,
                        dev.parley.api.spi.SummaryLog.@Nullable Spent spent, java.time.Instant at) {
        Optional<Integer> failures = h.createQuery(HELD_FAILURES).bind("c", conversationId).bind("token", token)
                .mapTo(Integer.class).findOne();
        if (failures.isPresent()) {
            long factor = 1L << Math.min(failures.get(), 6);
            h.createUpdate(fail).bind("c", conversationId).bind("token", token)
                    .bind("leaseMs", retryAfter.toMillis() * factor).execute();
        }
        if (h.createQuery(LOCK_LIVE).bind("c", conversationId).mapTo(Long.class).findOne().isEmpty()) {
            return Credits.unmetered(); // the conversation is gone: nothing to charge it or record of it
        }
        Credits charged = Credits.unmetered();
        if (spent != null) {
            if (spent.charge() != null) {
                charged = credits.settle(h, spent.charge(), conversationId, spent.callId(), at);
            }
            if (spent.meter() != null) {
                usage.record(h, conversationId, spent.meter(), at, spent.usage(), charged);
            }
        }
        audit.insert(h, event);
        return charged;
    }

    public void end(Handle h, String conversationId, String token) {
        h.createUpdate(END).bind("c", conversationId).bind("token", token).execute();
    }

    /**
     * Stores the summary, in the caller's transaction, when the claim under {@code token} holds, the conversation
     * is live and has the messages it covers, and it covers more than the latest summary; empty (nothing written)
     * otherwise. The charge is settled and the usage recorded with it.
     */
    public Optional<Summary> commit(Handle h, String token, Summary summary, @Nullable TurnCharge charge,
                                    @Nullable UsageEntry meter, AuditEvent event) {
        String c = summary.conversationId();
        // The claim's row first (the order purges and erasures lock in too), then the conversation's: a takeover by
        // another engine or an erasure waits for this commit, and one that came first leaves no claim to end.
        if (h.createUpdate(DONE).bind("c", c).bind("token", token).execute() != 1) {
            return Optional.empty();
        }
        Optional<Long> count = h.createQuery(LOCK_LIVE).bind("c", c).mapTo(Long.class).findOne();
        Long covered = h.createQuery(COVERED).bind("c", c).mapTo(Long.class).findOne().orElse(null);
        if (count.isEmpty() || count.get() < summary.toSequence()
                || covered != null && covered >= summary.toSequence()) {
            throw new Refused(); // rolls the claim's end back: the caller gives the claim up
        }
        Summary stored = summary;
        if (charge != null) {
            stored = stored.withCredits(credits.settle(h, charge, c, summary.id(), summary.createdAt()));
        }
        Credits paid = stored.credits();
        insert(h, stored);
        changed(h, c);
        if (meter != null) {
            usage.record(h, c, meter, summary.createdAt(), summary.usage(), paid);
        }
        audit.insert(h, event);
        return Optional.of(stored);
    }

    /** Thrown by {@link #commit} to roll its transaction back when the summary cannot be stored. */
    public static final class Refused extends RuntimeException {
        Refused() {
            super("the summary cannot be stored", null, false, false);
        }
    }

    /** Inserts a summary as it is (an import's, or a commit's once charged). */
    public void insert(Handle h, Summary summary) {
        Credits paid = summary.credits();
        String c = summary.conversationId();
        h.createUpdate(INSERT)
                .bind("id", summary.id())
                .bind("c", c)
                .bind("from", summary.fromSequence())
                .bind("to", summary.toSequence())
                .bind("body", summary.text())
                .bind("tokens", summary.tokens())
                .bind("model", summary.model())
                .bind("in", summary.usage().tokensIn())
                .bind("out", summary.usage().tokensOut())
                .bind("metered", paid.metered())
                .bind("used", paid.metered() ? paid.used() : null)
                .bind("remaining", paid.metered() ? paid.remaining() : null)
                .bind("account", paid.account().orElse(null))
                .bind("at", Rows.utc(summary.createdAt()))
                .execute();
    }

    /** Deletes the conversation's summaries, counting the change when there were any; the number deleted. */
    public int deleteSummaries(Handle h, String conversationId) {
        int deleted = h.createUpdate(DELETE_SUMMARIES).bind("c", conversationId).execute();
        if (deleted > 0) {
            changed(h, conversationId);
        }
        return deleted;
    }

    /** Counts a change to the conversation's summaries. */
    public void changed(Handle h, String conversationId) {
        h.createUpdate(CHANGED).bind("c", conversationId).execute();
    }

    /**
     * Deletes the conversation's claim row and then its summaries: a compaction that claimed it before cannot store
     * its summary after.
     */
    public void deleteAll(Handle h, String conversationId) {
        h.createUpdate(DELETE_CLAIM).bind("c", conversationId).execute();
        deleteSummaries(h, conversationId);
    }
}
