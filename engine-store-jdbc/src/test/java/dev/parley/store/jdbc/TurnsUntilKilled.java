package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Timeouts;
import dev.parley.api.Usage;
import dev.parley.api.credits.ModelPrice;
import dev.parley.testing.ScriptedModel;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The program {@link KillTest} kills. Its arguments: the store ({@code h2:<file>} or {@code postgresql:<jdbc url>}),
 * a prefix for message ids, and what to do:
 * <ul>
 *   <li>{@code acks}: create a conversation, print {@code conversation <id>}, then send turns for ever and print
 *       {@code ack <message id>} each time {@code send} has returned;</li>
 *   <li>{@code hang}: create a conversation, print {@code conversation <id>}, send one turn with the id
 *       {@code <prefix>-1} to a model that prints {@code calling} and then never answers;</li>
 *   <li>{@code credits <organization>}: as {@code acks}, in that organization (whose account the caller opened
 *       and funded), to a model priced at {@link #PRICE} that prints {@code calling} on each call (the turn's
 *       credit hold is taken then) and answers after a few milliseconds with {@link #CREDITS_USAGE}, with a claim lease (and so a credit hold lease) of {@link #CREDITS_LEASE}; each
 *       {@code ack <message id> <credits>} line carries the credits the reply says its turn was charged.</li>
 * </ul>
 */
public final class TurnsUntilKilled {
    /** The price of the {@code credits} mode's model. */
    static final ModelPrice PRICE = ModelPrice.perThousand("1.5", "2.25");
    /** What each of the {@code credits} mode's model calls uses. */
    static final Usage CREDITS_USAGE = new Usage(40, 20);
    /** The {@code credits} mode's claim lease: the hold of a turn the kill interrupts lapses this soon after. */
    static final Duration CREDITS_LEASE = Duration.ofSeconds(3);

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
        ChildJvms.exitWithParent();
        if (args[2].equals("credits")) {
            credits(args[0], args[1], args[3]);
            return;
        }
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

    /** The {@code credits} mode: metered turns for ever, each acknowledged with what it was charged. */
    private static void credits(String spec, String prefix, String organization) {
        ScriptedModel model = ScriptedModel.builder().replyWith(request -> {
                    System.out.println("calling"); // the turn's credit hold is taken by now
                    System.out.flush();
                    return "paid answer";
                }).usage(CREDITS_USAGE.tokensIn(), CREDITS_USAGE.tokensOut()).latency(Duration.ofMillis(5)).build();
        ConversationEngine engine = ConversationEngine.builder()
                .store(store(spec))
                .model("scripted", model)
                .defaultModel("scripted")
                .price("scripted", PRICE)
                .timeouts(Timeouts.builder().claimLease(CREDITS_LEASE).build())
                .build();
        Conversation c = engine.as(Caller.user("alice", organization).member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
        System.out.println("conversation " + c.id());
        System.out.flush();
        for (int i = 1; ; i++) {
            String id = prefix + "-" + i;
            Reply reply = c.send(Prompt.text("paid turn " + id).id(id).build());
            System.out.println("ack " + id + " " + reply.credits().used().toPlainString());
            System.out.flush();
        }
    }
}
