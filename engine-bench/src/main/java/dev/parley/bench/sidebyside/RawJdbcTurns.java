package dev.parley.bench.sidebyside;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The raw-JDBC minimum of a durable turn, the baseline: one connection, statements prepared once, a compact
 * table keyed by (conversation, sequence). A turn reads the newest {@link #WINDOW} messages, inserts the two
 * messages, adds to the conversation's totals and commits: 4 statements, 1 commit.
 */
final class RawJdbcTurns implements ChatTurns {
    private final Path file;
    private final Corpus corpus;
    private final Connection connection;
    private final PreparedStatement read;
    private final PreparedStatement insert;
    private final PreparedStatement totals;
    private final List<String> ids = new ArrayList<>();
    private final List<long[]> sequences = new ArrayList<>();

    RawJdbcTurns(Path dir, Corpus corpus) throws SQLException {
        this.file = dir.resolve("raw");
        this.corpus = corpus;
        connection = H2Files.connect(file);
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE TABLE chat_conversation (id VARCHAR(64) PRIMARY KEY, tokens_in BIGINT NOT NULL, "
                    + "tokens_out BIGINT NOT NULL, message_count BIGINT NOT NULL, updated_at TIMESTAMP WITH TIME ZONE NOT NULL)");
            s.execute("CREATE TABLE chat_message (conversation_id VARCHAR(64) NOT NULL, seq BIGINT NOT NULL, "
                    + "id VARCHAR(64) NOT NULL, role VARCHAR(16) NOT NULL, body CHARACTER VARYING NOT NULL, "
                    + "tokens INT NOT NULL, created_at TIMESTAMP WITH TIME ZONE NOT NULL, PRIMARY KEY (conversation_id, seq))");
        }
        connection.setAutoCommit(false);
        read = connection.prepareStatement("SELECT seq, role, body, tokens FROM chat_message WHERE conversation_id = ? "
                + "ORDER BY conversation_id DESC, seq DESC LIMIT " + WINDOW);
        insert = connection.prepareStatement("INSERT INTO chat_message (conversation_id, seq, id, role, body, tokens, "
                + "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        totals = connection.prepareStatement("UPDATE chat_conversation SET tokens_in = tokens_in + ?, "
                + "tokens_out = tokens_out + ?, message_count = message_count + 2, updated_at = ? WHERE id = ?");
    }

    @Override
    public void fill(int conversations, int history) throws Exception {
        OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC);
        try (PreparedStatement create = connection.prepareStatement("INSERT INTO chat_conversation VALUES (?, 0, 0, ?, ?)")) {
            for (int c = 0; c < conversations; c++) {
                String id = "raw-" + c;
                create.setString(1, id);
                create.setLong(2, history);
                create.setObject(3, at);
                create.executeUpdate();
                for (int m = 0; m < history; m++) {
                    addMessage(id, m + 1, "m" + m, m % 2 == 0 ? "USER" : "ASSISTANT", corpus.text(m), corpus.tokens(m), at);
                    if (m % 1_000 == 999) {
                        insert.executeBatch();
                    }
                }
                insert.executeBatch();
                connection.commit();
                ids.add(id);
                sequences.add(new long[] {history});
            }
        }
    }

    private void addMessage(String conversation, long seq, String id, String role, String body, int tokens,
                            OffsetDateTime at) throws SQLException {
        insert.setString(1, conversation);
        insert.setLong(2, seq);
        insert.setString(3, id);
        insert.setString(4, role);
        insert.setString(5, body);
        insert.setInt(6, tokens);
        insert.setObject(7, at);
        insert.addBatch();
    }

    @Override
    public Object turn(int conversation, String prompt, String reply) throws SQLException {
        String id = ids.get(conversation);
        List<String> window = new ArrayList<>(WINDOW);
        int windowTokens = 0;
        read.setString(1, id);
        try (ResultSet rs = read.executeQuery()) {
            while (rs.next()) {
                rs.getLong(1);
                rs.getString(2);
                window.add(rs.getString(3));
                windowTokens += rs.getInt(4);
            }
        }
        OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
        long[] seq = sequences.get(conversation);
        addMessage(id, ++seq[0], "q" + seq[0], "USER", prompt, 50, now);
        addMessage(id, ++seq[0], "r" + seq[0], "ASSISTANT", reply, 50, now);
        insert.executeBatch();
        totals.setLong(1, windowTokens);
        totals.setLong(2, 50);
        totals.setObject(3, now);
        totals.setString(4, id);
        totals.executeUpdate();
        connection.commit();
        return window;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public long storedMessages() throws SQLException {
        return H2Files.count(file, "SELECT COUNT(*) FROM chat_message");
    }

    @Override
    public void close() throws SQLException {
        connection.close();
    }
}
