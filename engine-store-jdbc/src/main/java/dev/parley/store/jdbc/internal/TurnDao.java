package dev.parley.store.jdbc.internal;

import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.Message;
import dev.parley.api.StoreFailureException;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import dev.parley.store.jdbc.JdbcConversationStore;
import org.jdbi.v3.core.Handle;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * The message-id claim protocol (claim, existing claim, renew, release) and the commit of a turn. Not API.
 * Thread safe (immutable).
 *
 * <p>A claim is a {@code parley_turn} row keyed by conversation and message id, fenced by a random token: only
 * its holder renews, completes or releases it, and one whose lease ran out (by the database's clock, see
 * {@link Dialect}) is taken over under a new token. A turn a policy blocked settles its id as BLOCKED instead of
 * COMPLETE: such a row has no token and no lease, so it is never taken over, renewed or released, and every later
 * claim of the id reads {@link TurnClaim.Blocked}. Every method runs on the caller's {@link Handle}; a commit runs
 * its statements of this DAO, {@link MessageDao}, {@link AuditDao}, {@link ViolationDao}, for a turn a budget
 * metered {@link CreditDao}, and for a turn with a meter {@link UsageDao} in the caller's one transaction.
 */
public final class TurnDao {
    /** Logs under the store's name, where a host looks for what the store did. */
    private static final Logger LOG = LoggerFactory.getLogger(JdbcConversationStore.class);

    /** The status of an id whose turn a policy blocked. */
    static final String BLOCKED = "BLOCKED";
    /** An id's claim, with whether its lease ran out by the database's clock: primary key. */
    public static final String EXISTING_CLAIM = "SELECT status, reply_seq, claim_token, fingerprint, block_rule_id, "
            + "block_phase, block_fail_closed, CASE WHEN "
            + "expires_at IS NULL OR expires_at < " + Dialect.NOW + " THEN TRUE ELSE FALSE END AS expired "
            + "FROM parley_turn WHERE conversation_id = :c AND prompt_id = :p";
    /** Gives up the claim a token holds; one taken over by another engine after its lease stays. */
    static final String RELEASE = "DELETE FROM parley_turn WHERE conversation_id = :c "
            + "AND prompt_id = :p AND status = 'PENDING' AND claim_token = :token";
    /** Adds a turn's totals to the live conversation, holding its row lock until commit. */
    static final String ADD_TURN = "UPDATE parley_conversation SET tokens_in = tokens_in + :in, "
            + "tokens_out = tokens_out + :out, message_count = message_count + :added, "
            + "updated_at = :at WHERE id = :id AND deleted_at IS NULL";
    /** As {@link #ADD_TURN}, fenced against streams in the same statement: no live lock, none ended since. */
    static final String ADD_TURN_FENCED = ADD_TURN + StreamLockDao.STREAM_FENCE;
    /** Whether the conversation is live (1) or not (0): primary key. */
    static final String LIVE_COUNT = "SELECT COUNT(*) FROM parley_conversation WHERE id = :id "
            + "AND deleted_at IS NULL";
    /** Completes the claim a token still holds, naming the reply. */
    static final String COMPLETE_CLAIM = "UPDATE parley_turn SET status = 'COMPLETE', reply_seq = :seq, "
            + "claim_token = NULL WHERE conversation_id = :c AND prompt_id = :p "
            + "AND status = 'PENDING' AND claim_token = :token";
    /** Records an id as complete that no claim was made for; the primary key refuses an id claimed meanwhile. */
    static final String INSERT_COMPLETE = "INSERT INTO parley_turn (conversation_id, prompt_id, status, reply_seq, claimed_at, "
            + "fingerprint) VALUES (:c, :p, 'COMPLETE', :seq, :at, :fp)";

    /**
     * Settles the PENDING claim a token still holds as BLOCKED, with the rule, phase and fail-closed flag that
     * blocked its turn; it keeps its fingerprint, and loses its token and lease: primary key.
     */
    public static final String BLOCK_CLAIM = "UPDATE parley_turn SET status = 'BLOCKED', claim_token = NULL, "
            + "expires_at = NULL, block_rule_id = :rule, block_phase = :phase, block_fail_closed = :failClosed "
            + "WHERE conversation_id = :c AND prompt_id = :p AND status = 'PENDING' AND claim_token = :token";
    /** Records an id as BLOCKED that no claim was made for; the primary key refuses an id that has a row. */
    public static final String INSERT_BLOCKED = "INSERT INTO parley_turn (conversation_id, prompt_id, status, "
            + "claimed_at, fingerprint, block_rule_id, block_phase, block_fail_closed) "
            + "VALUES (:c, :p, 'BLOCKED', :at, :fp, :rule, :phase, :failClosed)";

    /** Inserts a PENDING claim unless the id is claimed or another message's id: {@link Dialect#claimInsert()}. */
    private final String claimInsert;
    /** Takes over a PENDING claim whose lease ran out, compare-and-set on its old token {@code :old}. */
    private final String takeOver;
    /** As {@link #takeOver}, for a claim that has no token. */
    private final String takeOverUntokened;
    /** Extends the lease of the PENDING claim a token holds. */
    private final String renew;
    /** {@link #ADD_TURN} returning the conversation's new message count, which numbers the turn's messages. */
    private final String addTurn;
    /** {@link #ADD_TURN_FENCED}, returning the new message count likewise. */
    private final String addTurnFenced;
    private final MessageDao messages;
    private final AuditDao audit;
    private final ViolationDao violations;
    private final CreditDao credits;
    private final UsageDao usage;

    /**
     * The statements spelled for {@code dialect}; messages, events, violations, the charge and the usage entry of
     * a commit go through the other DAOs.
     */
    public TurnDao(Dialect dialect, MessageDao messages, AuditDao audit, ViolationDao violations, CreditDao credits,
                   UsageDao usage) {
        this.credits = credits;
        this.usage = usage;
        this.messages = messages;
        this.audit = audit;
        this.violations = violations;
        this.claimInsert = dialect.claimInsert();
        this.addTurn = dialect.updateReturning(ADD_TURN, "message_count");
        this.addTurnFenced = dialect.updateReturning(ADD_TURN_FENCED, "message_count");
        String takeOverStart = "UPDATE parley_turn SET claim_token = :token, fingerprint = :fp, "
                + "claimed_at = :now, expires_at = " + dialect.leaseEnd() + " WHERE conversation_id = :c "
                + "AND prompt_id = :p AND status = 'PENDING' AND (expires_at IS NULL OR expires_at < "
                + Dialect.NOW + ") AND ";
        this.takeOver = takeOverStart + "claim_token = :old";
        this.takeOverUntokened = takeOverStart + "claim_token IS NULL";
        this.renew = "UPDATE parley_turn SET expires_at = "
                + dialect.leaseEnd() + " WHERE conversation_id = :c AND prompt_id = :p AND status = 'PENDING' "
                + "AND claim_token = :token";
    }

    /** One row of parley_turn. */
    private record ClaimRow(String status, long replySeq, @Nullable String token, @Nullable String fingerprint,
                            @Nullable PolicyBlock block, boolean expired) {
    }

    /**
     * Claims the id under {@code token} without a failing statement: 1 when it did, 0 when the id is claimed,
     * completed or another message's id. On H2 a claim made in the same instant can pass the check too; the
     * primary key then refuses this one ({@link SqlErrors#isUniqueViolation}). A missing conversation is a
     * foreign key violation.
     */
    public int claim(Handle h, String conversationId, String promptId, String token, String fingerprint,
                     Instant at, Duration lease) {
        return h.createUpdate(claimInsert)
                .bind("c", conversationId)
                .bind("p", promptId)
                .bind("token", token)
                .bind("fp", fingerprint)
                .bind("at", Rows.utc(at))
                .bind("leaseMs", lease.toMillis())
                .execute();
    }

    /**
     * The state of an id the conditional insert did not claim: a claim another turn holds or finished, a claim
     * whose lease ran out (taken over here), or another message's id. Empty when the claim was released meanwhile.
     */
    public Optional<TurnClaim> existingClaim(Handle h, String conversationId, String promptId, String fingerprint,
                                             Instant now, Duration lease) {
        // Whether the lease ran out is the database's judgement, by its own clock (see Dialect).
        Optional<ClaimRow> found = h.createQuery(EXISTING_CLAIM)
                .bind("c", conversationId)
                .bind("p", promptId)
                .map((rs, ctx) -> new ClaimRow(rs.getString("status"), rs.getLong("reply_seq"),
                        rs.getString("claim_token"), rs.getString("fingerprint"), block(rs), rs.getBoolean("expired")))
                .findOne();
        if (found.isEmpty()) {
            boolean idInUse = messages.idInUse(h, conversationId, promptId);
            return idInUse ? Optional.of(new TurnClaim.IdInUse()) : Optional.empty();
        }
        ClaimRow row = found.get();
        String kept = row.fingerprint() == null ? "" : row.fingerprint();
        if ("COMPLETE".equals(row.status())) {
            Optional<Message> reply = messages.find(h, conversationId, row.replySeq());
            if (reply.isEmpty()) {
                throw new StoreFailureException("the store holds a completed claim without its reply", null);
            }
            return Optional.of(new TurnClaim.Completed(reply.get(), kept));
        }
        if (BLOCKED.equals(row.status())) {
            // Settled for good: never taken over, whatever its lease said.
            if (row.block() == null) {
                throw new StoreFailureException("the store holds a blocked claim without its rule", null);
            }
            return Optional.of(new TurnClaim.Blocked(row.block(), kept));
        }
        if (row.expired()) {
            // The holder neither finished nor renewed within its lease: presumed dead. Take the claim over under a
            // new token, unless another engine took it first (compare-and-set on the old token).
            String token = UUID.randomUUID().toString();
            int taken = h.createUpdate(row.token() == null ? takeOverUntokened : takeOver)
                    .bind("token", token)
                    .bind("fp", fingerprint)
                    .bind("now", Rows.utc(now))
                    .bind("leaseMs", lease.toMillis())
                    .bind("c", conversationId)
                    .bind("p", promptId)
                    .bind("old", row.token())
                    .execute();
            if (taken == 1) {
                LOG.warn("Took over the claim of a message in conversation {}: its holder neither finished nor "
                        + "renewed it within its lease", conversationId);
                return Optional.of(new TurnClaim.Claimed(token));
            }
        }
        return Optional.of(new TurnClaim.InProgress(kept));
    }

    /** The block a row keeps: null when it has no rule (a row that is not BLOCKED). */
    private static @Nullable PolicyBlock block(java.sql.ResultSet rs) throws java.sql.SQLException {
        String rule = rs.getString("block_rule_id");
        if (rule == null) {
            return null;
        }
        boolean failClosed = rs.getBoolean("block_fail_closed");
        return new PolicyBlock(rule, Rows.value(PolicyPhase.class, rs.getString("block_phase"), "block_phase"),
                failClosed);
    }

    /** Extends the lease of the PENDING claim {@code token} holds; false when it holds none. */
    public boolean renew(Handle h, String conversationId, String promptId, String token, Duration lease) {
        return h.createUpdate(renew)
                .bind("leaseMs", lease.toMillis())
                .bind("c", conversationId)
                .bind("p", promptId)
                .bind("token", token)
                .execute() == 1;
    }

    /** Gives up the PENDING claim {@code token} holds; 1 when it held it. */
    public int release(Handle h, String conversationId, String promptId, String token) {
        return h.createUpdate(RELEASE)
                .bind("c", conversationId)
                .bind("p", promptId)
                .bind("token", token)
                .execute();
    }

    /**
     * Stores a turn: totals, events, violations, prompt and reply numbered next, and the claim completed (or the id
     * recorded as complete). A blocked turn stores no message: totals, events and violations, and its id settled as
     * BLOCKED. The caller runs it in one transaction and rolls it back on any exception.
     *
     * @return the reply as stored
     * @throws ConversationLockedException when a stream ran on the conversation meanwhile (a fenced turn), or
     *     the turn's claim was taken over by another turn
     * @throws ConversationNotFoundException when the conversation is not live
     */
    public Message commit(Handle h, TurnRecord turn) {
        int added = turn.inHistory() ? 2 : 0;
        boolean fenced = turn.streamsEnded().isPresent();
        // A send's turn is fenced against streams in this same statement: no live lock, none ended since.
        // It returns the conversation's message count after the turn, which numbers the turn's messages: the
        // update holds the conversation's row lock until commit, so no other turn numbers messages in between.
        Optional<Long> numbered = h.createQuery(fenced ? addTurnFenced : addTurn)
                .bind("in", turn.usage().tokensIn())
                .bind("out", turn.usage().tokensOut())
                .bind("added", added)
                .bind("at", Rows.utc(turn.at()))
                .bind("id", turn.conversationId())
                .bind("ended", turn.streamsEnded().orElse(0))
                .mapTo(Long.class)
                .findOne();
        if (numbered.isEmpty()) {
            if (fenced && h.createQuery(LIVE_COUNT)
                    .bind("id", turn.conversationId())
                    .mapTo(Long.class)
                    .one() > 0) {
                throw new ConversationLockedException(turn.conversationId(),
                        "a stream ran on the conversation while this turn did; the turn was not stored");
            }
            throw new ConversationNotFoundException(turn.conversationId());
        }
        // The turn's own events, in its transaction: rolled back with it when anything below refuses it.
        for (AuditEvent e : turn.events()) {
            audit.insert(h, e);
        }
        // And its violations likewise; no statement at all for a turn without any.
        violations.insertAll(h, turn.violations());
        if (turn.blocked() != null) {
            settleBlocked(h, turn, turn.blocked());
            return metered(h, turn, charged(h, turn, Rows.stored(turn.reply())));
        }
        if (!turn.inHistory()) {
            return metered(h, turn, charged(h, turn, Rows.stored(turn.reply())));
        }
        long count = numbered.get();
        Message prompt = Rows.stored(turn.prompt()).withSequence(count - 1);
        Message reply = Rows.stored(turn.reply()).withSequence(count);
        messages.insertTurn(h, prompt, reply);
        if (turn.claimToken() != null) {
            // Complete only the claim this turn still holds: one taken over after its lease is another
            // turn's, and this turn must store nothing (the exception rolls the transaction back).
            int completed = h.createUpdate(COMPLETE_CLAIM)
                    .bind("seq", reply.sequence())
                    .bind("c", turn.conversationId())
                    .bind("p", turn.promptId())
                    .bind("token", turn.claimToken())
                    .execute();
            if (completed == 0) {
                throw new ConversationLockedException(turn.conversationId(), "the claim of message "
                        + turn.promptId() + " was taken over by another turn");
            }
        } else {
            // No claim was made (a pipeline without the idempotency stage): record the id as complete now.
            // If another turn claimed or completed this id meanwhile, the unique key refuses it and nothing
            // is stored.
            h.createUpdate(INSERT_COMPLETE)
                    .bind("c", turn.conversationId())
                    .bind("p", turn.promptId())
                    .bind("seq", reply.sequence())
                    .bind("at", Rows.utc(turn.at()))
                    .bind("fp", turn.fingerprint().isEmpty() ? null : turn.fingerprint())
                    .execute();
        }
        Message settled = charged(h, turn, reply);
        if (settled.credits().metered()) {
            messages.setCredits(h, turn.conversationId(), reply.sequence(), settled.credits());
        }
        return metered(h, turn, settled);
    }

    /**
     * Records the turn in the usage ledger with the credits its commit charged, last, now that nothing can refuse
     * the commit: one statement for a turn with a meter, none for one without.
     */
    private Message metered(Handle h, TurnRecord turn, Message reply) {
        if (turn.meter() != null) {
            usage.record(h, turn.conversationId(), turn.meter(), turn.at(), turn.usage(), reply.credits());
        }
        return reply;
    }

    /**
     * The reply with what the turn's charge cost, settled now that nothing can refuse the commit any more (a
     * refused commit charges nothing and keeps its hold); the reply as it is for a turn no budget metered, with no
     * statement at all.
     */
    private Message charged(Handle h, TurnRecord turn, Message reply) {
        if (turn.charge() == null) {
            return reply;
        }
        return reply.withCredits(credits.settle(h, turn.charge(), turn.conversationId(), turn.promptId(), turn.at()));
    }

    /**
     * Settles a blocked turn's id as BLOCKED: the PENDING claim its token still holds (keeping its fingerprint),
     * or, for a turn that claimed nothing, a new row with the turn's fingerprint, which the primary key refuses
     * when the id has a row already (the caller maps that to {@link ConversationLockedException}).
     */
    private static void settleBlocked(Handle h, TurnRecord turn, PolicyBlock block) {
        if (turn.claimToken() != null) {
            int settled = h.createUpdate(BLOCK_CLAIM)
                    .bind("rule", block.ruleId())
                    .bind("phase", block.phase().name())
                    .bind("failClosed", block.failClosed())
                    .bind("c", turn.conversationId())
                    .bind("p", turn.promptId())
                    .bind("token", turn.claimToken())
                    .execute();
            if (settled == 0) {
                throw new ConversationLockedException(turn.conversationId(), "the claim of message "
                        + turn.promptId() + " was taken over by another turn");
            }
        } else {
            h.createUpdate(INSERT_BLOCKED)
                    .bind("c", turn.conversationId())
                    .bind("p", turn.promptId())
                    .bind("at", Rows.utc(turn.at()))
                    .bind("fp", turn.fingerprint().isEmpty() ? null : turn.fingerprint())
                    .bind("rule", block.ruleId())
                    .bind("phase", block.phase().name())
                    .bind("failClosed", block.failClosed())
                    .execute();
        }
    }
}
