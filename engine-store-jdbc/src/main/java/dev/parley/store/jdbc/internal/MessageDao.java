package dev.parley.store.jdbc.internal;

import dev.parley.api.Credits;
import dev.parley.api.Message;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.values.HistoryMessage;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.UnableToExecuteStatementException;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The statements on messages: history tails, pages, single messages, inserts and counts. Not API. Stateless.
 *
 * <p>Messages of a conversation are numbered 1..n without gaps by {@code seq}, so every read here is a range of
 * the {@code (conversation_id, seq)} primary key. Every method runs on the caller's {@link Handle}.
 */
public final class MessageDao {
    /**
     * A conversation's history tail, newest first. Ordered by both key columns, descending, so that the database
     * walks the primary key backwards from :before and stops after :limit rows (ordering by seq alone makes H2
     * read and sort the whole conversation).
     */
    public static final String RECENT_MESSAGES = "SELECT " + Rows.MESSAGE_COLUMNS
            + " FROM parley_message WHERE conversation_id = :c AND seq < :before"
            + " ORDER BY conversation_id DESC, seq DESC LIMIT :limit";
    /**
     * {@link #RECENT_MESSAGES} reduced to what a turn's context needs, with positional parameters: it runs on
     * every turn, as a plain JDBC statement.
     */
    public static final String RECENT_HISTORY = "SELECT seq, role, body, tokens FROM parley_message "
            + "WHERE conversation_id = ? AND seq < ? ORDER BY conversation_id DESC, seq DESC LIMIT ?";
    /** A page of messages: numbered 1..n without gaps, so a page is a key range and needs no OFFSET scan. */
    public static final String MESSAGES_PAGE = "SELECT " + Rows.MESSAGE_COLUMNS
            + " FROM parley_message WHERE conversation_id = :c AND seq > :from AND seq <= :to"
            + " ORDER BY conversation_id, seq";
    /** A conversation's message count: the total of its message pages. */
    public static final String MESSAGE_COUNT = "SELECT message_count FROM parley_conversation WHERE id = :c AND deleted_at IS NULL";
    /** One message by its number: primary key. */
    static final String MESSAGE_AT = "SELECT " + Rows.MESSAGE_COLUMNS
            + " FROM parley_message WHERE conversation_id = :c AND seq = :seq";
    /** How many messages of a conversation have an id (0 or 1): its unique key. */
    static final String ID_COUNT = "SELECT COUNT(*) FROM parley_message WHERE conversation_id = :c AND id = :p";

    /** Up to {@code limit} messages numbered below {@code beforeSequence}, newest first. */
    public List<Message> recent(Handle h, String conversationId, long beforeSequence, int limit) {
        return h.createQuery(RECENT_MESSAGES)
                .bind("c", conversationId)
                .bind("before", beforeSequence)
                .bind("limit", limit)
                .map(Rows.MESSAGE)
                .list();
    }

    /** What {@link #recent} returns, reduced to sequence, role, text and tokens, newest first. */
    public List<HistoryMessage> recentHistory(Handle h, String conversationId, long beforeSequence, int limit) {
        try (PreparedStatement s = h.getConnection().prepareStatement(RECENT_HISTORY)) {
            s.setString(1, conversationId);
            s.setLong(2, beforeSequence);
            s.setInt(3, limit);
            try (ResultSet rs = s.executeQuery()) {
                List<HistoryMessage> history = new ArrayList<>(Math.min(limit, 64));
                while (rs.next()) {
                    history.add(new HistoryMessage(rs.getLong(1), Rows.role(rs.getString(2)), rs.getString(3),
                            rs.getInt(4)));
                }
                return history;
            }
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /**
     * A page of the live conversation's messages, oldest first, with their total; an empty page when the
     * conversation is not live. Reads twice: the caller opens one snapshot for both reads.
     */
    public Page<Message> page(Handle h, String conversationId, PageRequest page) {
        Optional<Long> count = h.createQuery(MESSAGE_COUNT)
                .bind("c", conversationId)
                .mapTo(Long.class)
                .findOne();
        if (count.isEmpty()) {
            return Page.<Message>of(List.of(), page, 0);
        }
        long total = count.get();
        List<Message> items = h.createQuery(MESSAGES_PAGE)
                .bind("c", conversationId)
                .bind("from", page.offset())
                .bind("to", page.offset() + page.size())
                .map(Rows.MESSAGE)
                .list();
        return Page.of(items, page, total);
    }

    /** The message numbered {@code sequence}. */
    Optional<Message> find(Handle h, String conversationId, long sequence) {
        return h.createQuery(MESSAGE_AT)
                .bind("c", conversationId)
                .bind("seq", sequence)
                .map(Rows.MESSAGE)
                .findOne();
    }

    /** Whether a message of the conversation has the id {@code messageId}. */
    boolean idInUse(Handle h, String conversationId, String messageId) {
        return h.createQuery(ID_COUNT)
                .bind("c", conversationId)
                .bind("p", messageId)
                .mapTo(Long.class)
                .one() > 0;
    }

    /** A new message, numbered by the caller. */
    static final String INSERT_POSITIONAL = "INSERT INTO parley_message (" + Rows.MESSAGE_COLUMNS + ") VALUES (?, ?, ?, "
            + "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    /**
     * Stores a turn's prompt and reply under their own numbers: one plain JDBC statement executed twice, since
     * this runs on every turn. A message id already in use fails with the database's unique violation.
     */
    void insertTurn(Handle h, Message prompt, Message reply) {
        try (PreparedStatement s = h.getConnection().prepareStatement(INSERT_POSITIONAL)) {
            bind(s, prompt);
            s.executeUpdate();
            bind(s, reply);
            s.executeUpdate();
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    /** Stores messages under their own numbers, in one batch of the turn's statement. */
    public void insertAll(Handle h, java.util.List<Message> all) {
        try (PreparedStatement s = h.getConnection().prepareStatement(INSERT_POSITIONAL)) {
            for (Message m : all) {
                bind(s, m);
                s.addBatch();
            }
            s.executeBatch();
        } catch (SQLException e) {
            throw new UnableToExecuteStatementException(e, null);
        }
    }

    private static void bind(PreparedStatement s, Message m) throws SQLException {
        s.setString(1, m.conversationId());
        s.setLong(2, m.sequence());
        s.setString(3, m.id());
        s.setString(4, m.role().name());
        s.setString(5, m.text());
        s.setInt(6, m.tokens());
        s.setString(7, m.model());
        s.setString(8, m.user());
        s.setString(9, m.source());
        s.setString(10, m.status().name());
        s.setObject(11, Rows.utc(m.createdAt()));
        if (m.usage() == null) {
            s.setNull(12, Types.BIGINT);
            s.setNull(13, Types.BIGINT);
        } else {
            s.setLong(12, m.usage().tokensIn());
            s.setLong(13, m.usage().tokensOut());
        }
        Credits credits = m.credits();
        if (credits.metered()) {
            s.setBoolean(14, true);
            s.setBigDecimal(15, credits.used());
            s.setBigDecimal(16, credits.remaining());
            s.setString(17, credits.accountId());
        } else {
            s.setNull(14, Types.BOOLEAN);
            s.setNull(15, Types.NUMERIC);
            s.setNull(16, Types.NUMERIC);
            s.setNull(17, Types.VARCHAR);
        }
    }

    /** Keeps what a stored reply's turn was charged with it: primary key. */
    public static final String SET_CREDITS = "UPDATE parley_message SET credits_metered = :metered, "
            + "credits_used = :used, credits_remaining = :remaining, credits_account = :account "
            + "WHERE conversation_id = :c AND seq = :seq";

    /**
     * Keeps a metered turn's {@link Credits} with its reply, numbered {@code sequence}, in the caller's
     * transaction: the commit settles the charge after every check that can refuse the turn, the reply's insert
     * included, so it writes them last.
     */
    void setCredits(Handle h, String conversationId, long sequence, Credits credits) {
        int updated = h.createUpdate(SET_CREDITS)
                .bind("metered", credits.metered())
                .bind("used", credits.used())
                .bind("remaining", credits.remaining())
                .bind("account", credits.accountId())
                .bind("c", conversationId)
                .bind("seq", sequence)
                .execute();
        if (updated != 1) {
            throw new IllegalStateException("the reply of a charged turn is not where its commit stored it");
        }
    }
}
