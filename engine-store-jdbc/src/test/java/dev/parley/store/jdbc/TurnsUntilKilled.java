package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.testing.ScriptedModel;

import java.nio.file.Path;

/**
 * The program {@link H2DurabilityTest} kills: it opens an engine on the H2 file named by its first argument,
 * creates a conversation, prints {@code conversation <id>}, then sends turns for ever and prints
 * {@code ack <message id>} each time {@code send} has returned.
 */
public final class TurnsUntilKilled {
    private TurnsUntilKilled() {
    }

    public static void main(String[] args) {
        ConversationEngine engine = ConversationEngine.builder()
                .store(JdbcConversationStore.h2File(Path.of(args[0])))
                .model("scripted", ScriptedModel.echo())
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
