package dev.parley.bench.sidebyside;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Role;
import dev.parley.api.Usage;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.TurnRecord;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Parley as a host uses it: an engine on {@code JdbcConversationStore.h2File}, one {@code send} per turn with a
 * history budget of about {@link #WINDOW} messages, an instant model that reports its usage.
 */
final class ParleyTurns implements ChatTurns {
    private final Path file;
    private final Corpus corpus;
    private final JdbcConversationStore store;
    private final ConversationEngine engine;
    private final Caller caller = Caller.user("bench", "org").member("ws").build();
    private final List<Conversation> conversations = new ArrayList<>();
    private final int contextSize;
    private String nextReply = "";
    private int seen;

    ParleyTurns(Path dir, Corpus corpus) {
        this.file = dir.resolve("parley");
        this.corpus = corpus;
        this.contextSize = WINDOW * corpus.meanTokens();
        store = JdbcConversationStore.h2File(file);
        engine = ConversationEngine.builder()
                .store(store)
                .model("instant", request -> {
                    seen = request.messages().size();
                    return new ModelResponse(nextReply, new Usage(contextSize, 50));
                })
                .build();
    }

    @Override
    public void fill(int conversations, int history) throws Exception {
        H2Files.writeDelay(file, 500);
        Instant at = Instant.now();
        for (int c = 0; c < conversations; c++) {
            Conversation conversation = engine.as(caller).create(NewConversation.inWorkspace("ws").build());
            String id = conversation.id();
            for (int m = 0; m + 1 < history; m += 2) {
                Message user = new Message("u" + m, id, 0, Role.USER, corpus.text(m), corpus.tokens(m), null, null,
                        null, MessageStatus.COMPLETE, at, null);
                Usage usage = new Usage(contextSize, corpus.tokens(m + 1));
                Message reply = new Message("a" + m, id, 0, Role.ASSISTANT, corpus.text(m + 1), corpus.tokens(m + 1),
                        "instant", null, null, MessageStatus.COMPLETE, at, usage);
                store.commitTurn(new TurnRecord(id, "u" + m, user, reply, usage, true, at));
            }
            this.conversations.add(conversation);
        }
        H2Files.writeDelay(file, 0);
    }

    @Override
    public Object turn(int conversation, String prompt, String reply) {
        nextReply = reply;
        Object answer = conversations.get(conversation).send(Prompt.text(prompt).contextSize(contextSize).build());
        if (seen < WINDOW / 2) {
            throw new IllegalStateException("the model saw " + seen + " messages, not a window of about " + WINDOW);
        }
        return answer;
    }

    @Override
    public Path file() {
        return file;
    }

    @Override
    public long storedMessages() throws Exception {
        return H2Files.count(file, "SELECT COUNT(*) FROM parley_message");
    }

    @Override
    public void close() {
        engine.close();
    }
}
