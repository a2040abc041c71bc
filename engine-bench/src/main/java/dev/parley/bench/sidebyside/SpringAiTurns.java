package dev.parley.bench.sidebyside;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.ai.chat.memory.ChatMemory;
import org.springframework.ai.chat.memory.MessageWindowChatMemory;
import org.springframework.ai.chat.memory.repository.jdbc.H2ChatMemoryRepositoryDialect;
import org.springframework.ai.chat.memory.repository.jdbc.JdbcChatMemoryRepository;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.init.ScriptUtils;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Spring AI's {@link MessageWindowChatMemory} over its {@link JdbcChatMemoryRepository} (H2 dialect, the schema
 * its jar ships), built without a Spring context as its documentation allows, on a HikariCP pool. It keeps the
 * full history (the window is unbounded) and the model is given the newest {@link #WINDOW} messages.
 */
final class SpringAiTurns implements ChatTurns {
    private final Path file;
    private final Corpus corpus;
    private final HikariDataSource pool;
    private final JdbcChatMemoryRepository repository;
    private final ChatMemory memory;
    private final List<String> ids = new ArrayList<>();

    SpringAiTurns(Path dir, Corpus corpus) throws SQLException {
        this.file = dir.resolve("springai");
        this.corpus = corpus;
        pool = H2Files.pool(file);
        try (Connection c = pool.getConnection()) {
            ScriptUtils.executeSqlScript(c,
                    new ClassPathResource("org/springframework/ai/chat/memory/repository/jdbc/schema-h2.sql"));
        }
        repository = JdbcChatMemoryRepository.builder().dataSource(pool).dialect(new H2ChatMemoryRepositoryDialect()).build();
        memory = MessageWindowChatMemory.builder().chatMemoryRepository(repository).maxMessages(Integer.MAX_VALUE).build();
    }

    @Override
    public void fill(int conversations, int history) throws SQLException {
        H2Files.writeDelay(file, 500);
        for (int c = 0; c < conversations; c++) {
            String id = "springai-" + c;
            List<Message> messages = new ArrayList<>(history);
            for (int m = 0; m < history; m++) {
                messages.add(m % 2 == 0 ? new UserMessage(corpus.text(m)) : new AssistantMessage(corpus.text(m)));
            }
            repository.saveAll(id, messages);
            ids.add(id);
        }
        H2Files.writeDelay(file, 0);
    }

    @Override
    public Object turn(int conversation, String prompt, String reply) {
        String id = ids.get(conversation);
        memory.add(id, new UserMessage(prompt));
        List<Message> all = memory.get(id);
        List<Message> window = ChatTurns.newestWindow(all);
        memory.add(id, new AssistantMessage(reply));
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
            n += repository.findByConversationId(id).size();
        }
        return n;
    }

    @Override
    public void close() {
        pool.close();
    }
}
