package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.testing.ScriptedModel;

import java.nio.file.Path;

/**
 * The program {@link KillTest} kills. Its arguments: the store ({@code h2:<file>} or {@code postgresql:<jdbc url>}),
 * a prefix for message ids, and what to do:
 * <ul>
 *   <li>{@code acks}: create a conversation, print {@code conversation <id>}, then send turns for ever and print
 *       {@code ack <message id>} each time {@code send} has returned;</li>
 *   <li>{@code hang}: create a conversation, print {@code conversation <id>}, send one turn with the id
 *       {@code <prefix>-1} to a model that prints {@code calling} and then never answers.</li>
 * </ul>
 */
public final class TurnsUntilKilled {
    private TurnsUntilKilled() {
    }

    /** The store an argument names: {@code h2:<file>} or {@code postgresql:<jdbc url>}. */
    static JdbcConversationStore store(String spec) {
        if (spec.startsWith("h2:")) {
            return JdbcConversationStore.h2File(Path.of(spec.substring("h2:".length())));
        }
        if (spec.startsWith("postgresql:")) {
            return JdbcConversationStore.of(spec.substring("postgresql:".length()), null, null);
        }
        throw new IllegalArgumentException("unknown store " + spec);
    }

    public static void main(String[] args) {
        boolean hang = args[2].equals("hang");
        ScriptedModel model = hang ? ScriptedModel.builder().replyWith(request -> {
            System.out.println("calling");
            System.out.flush();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "never";
        }).build() : ScriptedModel.echo();
        ConversationEngine engine = ConversationEngine.builder()
                .store(store(args[0]))
                .model("scripted", model)
                .defaultModel("scripted")
                .build();
        Conversation c = engine.as(Caller.user("alice", "org").member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
        System.out.println("conversation " + c.id());
        System.out.flush();
        for (int i = 1; ; i++) {
            String id = args[1] + "-" + i;
            c.send(Prompt.text("turn " + id).id(id).build());
            System.out.println("ack " + id);
            System.out.flush();
        }
    }
}
