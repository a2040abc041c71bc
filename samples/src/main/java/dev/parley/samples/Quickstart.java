package dev.parley.samples;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.core.LangChain4jModel;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.nio.file.Path;

/**
 * The README's quickstart, compiled and run by a test so that it cannot rot. Run it with an OpenAI key in
 * {@code OPENAI_API_KEY}.
 */
public final class Quickstart {
    private Quickstart() {
    }

    public static void main(String[] args) {
        ChatModel chatModel = OpenAiChatModel.builder()
                .apiKey(System.getenv("OPENAI_API_KEY")).modelName("gpt-4o-mini").build();
        run(chatModel);
    }

    /** The quickstart itself: one engine, one conversation, one turn. */
    public static void run(ChatModel chatModel) {
        // quickstart:begin
        try (ConversationEngine engine = ConversationEngine.builder()
                .store(JdbcConversationStore.h2File(Path.of("data/parley")))   // durable; omit to keep it in memory
                .model("gpt-4o-mini", LangChain4jModel.of(chatModel))
                .build()) {
            Caller alice = Caller.user("alice", "acme").member("support").build();
            Conversation c = engine.as(alice)
                    .create(NewConversation.inWorkspace("support").personality("Be brief.").build());
            Reply r = c.send(Prompt.text("What is my favourite number?")
                    .additionalContext("My favourite number is 444").build());
            System.out.println(r.text() + " (" + r.usage().total() + " tokens)");
        }
        // quickstart:end
    }
}
