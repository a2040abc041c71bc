package dev.parley.bench.sidebyside;

import com.zaxxer.hikari.HikariDataSource;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.memory.ChatMemory;
import dev.langchain4j.memory.chat.MessageWindowChatMemory;
import dev.langchain4j.store.memory.chat.ChatMemoryStore;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static dev.langchain4j.data.message.ChatMessageDeserializer.messagesFromJson;
import static dev.langchain4j.data.message.ChatMessageSerializer.messagesToJson;

/**
 * LangChain4j's {@link MessageWindowChatMemory} over a JDBC {@link ChatMemoryStore} written the way LangChain4j's
 * documentation shows a persistent store: one row per memory id holding the messages as JSON
 * ({@code messagesToJson} / {@code messagesFromJson}), on a HikariCP pool. It keeps the full history (the
 * window is unbounded) and the model is given the newest {@link #WINDOW} messages.
 */
final class LangChain4jTurns implements ChatTurns {
    private final Path file;
    private final Corpus corpus;
    private final HikariDataSource pool;
    private final JdbcChatMemoryStore store;
    private final List<String> ids = new ArrayList<>();

    LangChain4jTurns(Path dir, Corpus corpus) throws SQLException {
        this.file = dir.resolve("langchain4j");
        this.corpus = corpus;
        pool = H2Files.pool(file);
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE chat_memory (memory_id VARCHAR(64) PRIMARY KEY, messages CHARACTER LARGE OBJECT NOT NULL)");
        }
        store = new JdbcChatMemoryStore(pool);
    }

    /** The store as a LangChain4j user writes it, after the persistent-store example of its documentation. */
    static final class JdbcChatMemoryStore implements ChatMemoryStore {
        private final HikariDataSource dataSource;

        JdbcChatMemoryStore(HikariDataSource dataSource) {
            this.dataSource = dataSource;
        }

        @Override
        public List<ChatMessage> getMessages(Object memoryId) {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement s = c.prepareStatement("SELECT messages FROM chat_memory WHERE memory_id = ?")) {
                s.setString(1, memoryId.toString());
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? messagesFromJson(rs.getString(1)) : new ArrayList<>();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void updateMessages(Object memoryId, List<ChatMessage> messages) {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement s = c.prepareStatement("MERGE INTO chat_memory KEY (memory_id) VALUES (?, ?)")) {
                s.setString(1, memoryId.toString());
                s.setString(2, messagesToJson(messages));
                s.executeUpdate();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void deleteMessages(Object memoryId) {
            try (Connection c = dataSource.getConnection();
                 PreparedStatement s = c.prepareStatement("DELETE FROM chat_memory WHERE memory_id = ?")) {
                s.setString(1, memoryId.toString());
                s.executeUpdate();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private ChatMemory memory(String id) {
        // What a ChatMemoryProvider does for each request.
        return MessageWindowChatMemory.builder().id(id).maxMessages(Integer.MAX_VALUE).chatMemoryStore(store).build();
    }

    @Override
    public void fill(int conversations, int history) throws SQLException {
        H2Files.writeDelay(file, 500);
        for (int c = 0; c < conversations; c++) {
            String id = "lc4j-" + c;
            List<ChatMessage> messages = new ArrayList<>(history);
            for (int m = 0; m < history; m++) {
                messages.add(m % 2 == 0 ? UserMessage.from(corpus.text(m)) : AiMessage.from(corpus.text(m)));
            }
            store.updateMessages(id, messages);
            ids.add(id);
        }
        H2Files.writeDelay(file, 0);
    }

    @Override
    public Object turn(int conversation, String prompt, String reply) {
        ChatMemory memory = memory(ids.get(conversation));
        memory.add(UserMessage.from(prompt));
        List<ChatMessage> all = memory.messages();
        List<ChatMessage> window = ChatTurns.newestWindow(all);
        memory.add(AiMessage.from(reply));
        return window;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public long storedMessages() {
        long n = 0;
        for (String id : ids) {
            n += store.getMessages(id).size();
        }
        return n;
    }

    @Override
    public void close() {
        pool.close();
    }
}
