package dev.parley.samples.console;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.store.jdbc.JdbcConversationStore;
import dev.parley.testing.ScriptedModel;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A scripted multi-turn conversation on the embedded H2 store ({@code data/console-chat.mv.db}), printed with its
 * token totals. The model is engine-testing's scripted model, so the sample runs without a network or an API
 * key; swap in {@code LangChain4jModel.of(anyLangChain4jChatModel)} for a real one.
 */
public final class ConsoleChat {
    private static final List<String> USER_TURNS = List.of(
            "Hi! Can you remember things for me?",
            "My favourite number is 444.",
            "What is my favourite number?");

    private ConsoleChat() {
    }

    public static void main(String[] args) {
        run(System.out, Path.of("data", "console-chat"));
    }

    /** Holds the scripted conversation in the H2 database at {@code file} and prints it to {@code out}. */
    public static ConversationInfo run(PrintStream out, Path file) {
        ScriptedModel model = ScriptedModel.builder()
                .replies("Yes: everything you say stays in this conversation.",
                        "Noted.")
                .replyWith(request -> request.messages().stream()
                        .anyMatch(m -> m.text().contains("444")) ? "Your favourite number is 444." : "I don't know.")
                .build();
        try (ConversationEngine engine = ConversationEngine.builder()
                .store(JdbcConversationStore.h2File(file))
                .model("scripted", model)
                .build()) {
            Caller alice = Caller.user("alice", "acme").member("support").build();
            Conversation c = engine.as(alice)
                    .create(NewConversation.inWorkspace("support").personality("Be brief and friendly.").build());
            for (String text : USER_TURNS) {
                out.println("alice> " + text);
                Reply reply = c.send(Prompt.text(text).build());
                out.println("model> " + reply.text() + "   [" + reply.usage().tokensIn() + " in, "
                        + reply.usage().tokensOut() + " out]");
            }
            ConversationInfo info = c.info();
            List<Message> stored = c.messages(PageRequest.first()).items();
            out.println();
            out.println("Stored " + stored.size() + " messages in " + file.toAbsolutePath() + ".mv.db; conversation totals: "
                    + info.tokensIn() + " tokens in, " + info.tokensOut() + " tokens out.");
            return info;
        }
    }
}
