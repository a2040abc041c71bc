package dev.parley.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every text the store keeps of a conversation, read from the rows with plain JDBC beside the store: message
 * bodies, event details and violation excerpts. What a test asserts on them holds for the database, not only for
 * what the store's API returns.
 */
final class StoredTexts {
    /** Opens a connection to the store's database. */
    interface Connections {
        Connection open() throws SQLException;
    }

    private static final List<String> QUERIES = List.of(
            "SELECT body FROM parley_message WHERE conversation_id = ? ORDER BY seq",
            "SELECT detail FROM parley_event WHERE conversation_id = ? ORDER BY occurred_at, id",
            "SELECT excerpt FROM parley_violation WHERE conversation_id = ? ORDER BY occurred_at, id");

    private StoredTexts() {
    }

    static List<String> of(Connections db, String conversationId) {
        List<String> texts = new ArrayList<>();
        try (Connection c = db.open()) {
            for (String sql : QUERIES) {
                try (PreparedStatement s = c.prepareStatement(sql)) {
                    s.setString(1, conversationId);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            texts.add(rs.getString(1));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("could not read the stored rows", e);
        }
        return texts;
    }
}
