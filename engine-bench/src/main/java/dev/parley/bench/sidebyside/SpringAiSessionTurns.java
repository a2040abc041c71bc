package dev.parley.bench.sidebyside;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.messages.AssistantMessage;
import org.springframework.ai.chat.messages.Message;
import org.springframework.ai.chat.messages.UserMessage;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.model.Generation;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.session.CreateSessionRequest;
import org.springframework.ai.session.DefaultSessionService;
import org.springframework.ai.session.EventFilter;
import org.springframework.ai.session.SessionService;
import org.springframework.ai.session.advisor.SessionMemoryAdvisor;
import org.springframework.ai.session.jdbc.H2JdbcSessionRepositoryDialect;
import org.springframework.ai.session.jdbc.JdbcSessionRepository;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.init.ScriptUtils;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Spring AI Session's append-only JDBC store (the community {@code spring-ai-session-jdbc} module, the design
 * Spring AI 2.1 moves to): a {@link JdbcSessionRepository} (H2 dialect, the {@code schema-h2.sql} its jar ships)
 * under a {@link DefaultSessionService}, on a HikariCP pool, built without a Spring context as its manual setup
 * shows. Each turn is a {@link ChatClient} call through a {@link SessionMemoryAdvisor}, the session id passed
 * in the advisor context, as its documentation shows a user doing it; the chat model answers at once.
 *
 * <p>The window is the advisor's read-side filter, {@code EventFilter.lastN(20)}: the advisor reads the newest
 * {@link #WINDOW} events of the session, prepends them to the prompt (so the model sees them and the new user
 * message) and appends the user message, then, after the model answered, the reply, each as one event row.
 * Nothing is compacted, so the full history stays in the event table, as in the other memories. The
 * library's other way to bound a prompt, compaction (a trigger and a sliding-window strategy), is not used:
 * with a window of 20 it would fire on every turn and replace the session's active rows each time.
 *
 * <p>The history is filled through {@link SessionService#appendMessage}, one event at a time, as the advisor
 * writes them. Not thread safe: one benchmark thread drives it.
 */
final class SpringAiSessionTurns implements ChatTurns {
    private final Path file;
    private final Corpus corpus;
    private final HikariDataSource pool;
    private final SessionService sessions;
    private final ChatClient client;
    private final List<String> ids = new ArrayList<>();
    private String nextReply = "";
    private int seen;

    SpringAiSessionTurns(Path dir, Corpus corpus) throws SQLException {
        this.file = dir.resolve("springaisession");
        this.corpus = corpus;
        pool = H2Files.pool(file);
        try (Connection c = pool.getConnection()) {
            ScriptUtils.executeSqlScript(c, new ClassPathResource("org/springframework/ai/session/jdbc/schema-h2.sql"));
        }
        JdbcSessionRepository repository = JdbcSessionRepository.builder()
                .dataSource(pool)
                .dialect(new H2JdbcSessionRepositoryDialect())
                .build();
        sessions = DefaultSessionService.builder().sessionRepository(repository).build();
        SessionMemoryAdvisor advisor = SessionMemoryAdvisor.builder(sessions)
                .defaultUserId("bench")
                .eventFilter(EventFilter.lastN(WINDOW))
                .build();
        ChatModel model = new ChatModel() {
            @Override
            public ChatResponse call(Prompt prompt) {
                seen = prompt.getInstructions().size();
                return new ChatResponse(List.of(new Generation(new AssistantMessage(nextReply))));
            }
        };
        client = ChatClient.builder(model).defaultAdvisors(advisor).build();
    }

    @Override
    public void fill(int conversations, int history) throws SQLException {
        H2Files.writeDelay(file, 500);
        for (int c = 0; c < conversations; c++) {
            String id = "springaisession-" + c;
            sessions.create(CreateSessionRequest.builder().id(id).userId("bench").build());
            for (int m = 0; m < history; m++) {
                Message message = m % 2 == 0 ? new UserMessage(corpus.text(m)) : new AssistantMessage(corpus.text(m));
                sessions.appendMessage(id, message);
            }
            ids.add(id);
        }
        H2Files.writeDelay(file, 0);
    }

    @Override
    public Object turn(int conversation, String prompt, String reply) {
        String id = ids.get(conversation);
        nextReply = reply;
        seen = 0;
        ChatResponse response = client.prompt()
                .user(prompt)
                .advisors(a -> a.param(SessionMemoryAdvisor.SESSION_ID_CONTEXT_KEY, id))
                .call()
                .chatResponse();
        // The model saw the window and the new prompt: a longer prompt would mean the window was not applied.
        if (seen == 0 || seen > WINDOW + 1 || response == null) {
            throw new IllegalStateException("the model saw " + seen + " messages in " + id);
        }
        return response;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public long storedMessages() {
        long n = 0;
        for (String id : ids) {
            n += sessions.getEvents(id, EventFilter.all()).size();
        }
        return n;
    }

    @Override
    public void close() {
        pool.close();
    }
}
