package dev.parley.samples.server;

import dev.parley.api.StoreFailureException;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Optional;

import javax.sql.DataSource;

/**
 * Which engine conversation each assistant-style conversation id is, per board and chat: the assistant-style API
 * names its conversations itself (the first prompt to an id starts it), while the engine generates its ids. One row
 * per {@code (board, chat, id)} in {@code samples_assistant_conversation}, on the server's database, so that restarts
 * and every instance sharing a PostgreSQL database agree. The primary key makes the first of two concurrent first
 * prompts win: {@link #record} returns the id recorded first. Thread safe.
 */
final class AssistantConversations {
    /** The SQL state of a unique key violation, on H2 and PostgreSQL alike. */
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String CREATE = """
            CREATE TABLE IF NOT EXISTS samples_assistant_conversation (
                board_id VARCHAR(128) NOT NULL,
                chat_id VARCHAR(128) NOT NULL,
                client_id VARCHAR(128) NOT NULL,
                conversation_id VARCHAR(128) NOT NULL,
                PRIMARY KEY (board_id, chat_id, client_id))""";
    private static final String FIND = "SELECT conversation_id FROM samples_assistant_conversation"
            + " WHERE board_id = ? AND chat_id = ? AND client_id = ?";
    private static final String INSERT = "INSERT INTO samples_assistant_conversation"
            + " (board_id, chat_id, client_id, conversation_id) VALUES (?, ?, ?, ?)";
    private static final String DELETE = "DELETE FROM samples_assistant_conversation"
            + " WHERE board_id = ? AND chat_id = ? AND client_id = ? AND conversation_id = ?";

    private final DataSource dataSource;

    /**
     * Creates the table when it is missing.
     *
     * @throws StoreFailureException when the database refuses
     */
    AssistantConversations(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute(CREATE);
        } catch (SQLException e) {
            // Two instances creating the table at once on PostgreSQL: one of them loses on the catalog's key.
            if (!UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw new StoreFailureException("could not create the assistant conversation table", e);
            }
        }
    }

    /** The engine conversation of {@code clientId} on the board's chat, when a first prompt started it. */
    Optional<String> find(String boardId, String chatId, String clientId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(FIND)) {
            s.setString(1, boardId);
            s.setString(2, chatId);
            s.setString(3, clientId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new StoreFailureException("could not read an assistant conversation id", e);
        }
    }

    /**
     * Records {@code conversationId} as the engine conversation of {@code clientId}, unless another was recorded
     * first.
     *
     * @return the engine conversation recorded for the id: {@code conversationId}, or the one recorded first
     */
    String record(String boardId, String chatId, String clientId, String conversationId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(INSERT)) {
            s.setString(1, boardId);
            s.setString(2, chatId);
            s.setString(3, clientId);
            s.setString(4, conversationId);
            s.executeUpdate();
            return conversationId;
        } catch (SQLException e) {
            if (UNIQUE_VIOLATION.equals(e.getSQLState())) {
                return find(boardId, chatId, clientId).orElseThrow(() ->
                        new StoreFailureException("an assistant conversation id was recorded and then removed", e));
            }
            throw new StoreFailureException("could not record an assistant conversation id", e);
        }
    }

    /** Removes the record of {@code clientId}, if it still names {@code conversationId}. */
    void forget(String boardId, String chatId, String clientId, String conversationId) {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(DELETE)) {
            s.setString(1, boardId);
            s.setString(2, chatId);
            s.setString(3, clientId);
            s.setString(4, conversationId);
            s.executeUpdate();
        } catch (SQLException e) {
            throw new StoreFailureException("could not remove an assistant conversation id", e);
        }
    }
}
