package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.CreditAccounts;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Timeouts;
import dev.parley.api.compaction.Compaction;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.testing.ScriptedModel;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A child JVM for {@link CompactionKillTest}: an engine with compaction on, metered turns on an organization's funded
 * account, sending turns to a new conversation for ever. Arguments: the store ({@link TurnsUntilKilled#store}), and
 * the mode: {@code hang}, whose summarizer prints {@code summarizing} and never answers, or {@code random}, whose
 * summarizer prints {@code summarizing} and answers after a few milliseconds. Prints {@code conversation <id>}, then
 * {@code ack <message id>} after each stored turn.
 */
public final class CompactsUntilKilled {
    static final String ORG = "org";
    static final String SUMMARIZER = "summarizer";
    static final ModelPrice PRICE = ModelPrice.perThousand("1.5", "2.25");
    static final ModelPrice SUMMARY_PRICE = ModelPrice.perThousand("3", "6");
    /** The claim lease, and so the lease of the compaction claim and its credit hold. */
    static final Duration LEASE = Duration.ofSeconds(3);

    private CompactsUntilKilled() {
    }

    /** An engine as the child builds it, on {@code spec}'s store, with {@code summarizer}. */
    static ConversationEngine engine(String spec, ScriptedModel summarizer) {
        ConversationEngine engine = ConversationEngine.builder()
                .store(TurnsUntilKilled.store(spec))
                .model("scripted", ScriptedModel.echo())
                .model(SUMMARIZER, summarizer)
                .defaultModel("scripted")
                .price("scripted", PRICE)
                .price(SUMMARIZER, SUMMARY_PRICE)
                .defaultContextSize(300)
                .timeouts(Timeouts.builder().claimLease(LEASE).build())
                .compaction(Compaction.summarizeWith(SUMMARIZER).threshold(100).maxInputTokens(400)
                        .retryAfter(Duration.ofMillis(200)).build())
                .build();
        CreditAccounts credits = engine.credits();
        if (credits.account(AccountOwner.organization(ORG)).isEmpty()) {
            String account = credits.open(AccountOwner.organization(ORG)).id();
            credits.topUp(account, new BigDecimal("100000"), "test funds");
        }
        return engine;
    }

    static Caller alice() {
        return Caller.user("alice", ORG).member("ws").build();
    }

    /** A prompt of about forty words. */
    static String prompt(String id) {
        return "Turn " + id + ": please tell me how the returns policy applies to a parcel that was shipped to the "
                + "wrong address, whether the customer pays for the second delivery, and which warehouse should "
                + "handle the replacement when the original item is out of stock.";
    }

    public static void main(String[] args) {
        ChildJvms.exitWithParent();
        boolean hang = args[1].equals("hang");
        ScriptedModel summarizer = ScriptedModel.builder().chatOnly().replyWith(request -> {
            System.out.println("summarizing");
            System.out.flush();
            try {
                Thread.sleep(hang ? Long.MAX_VALUE : ThreadLocalRandom.current().nextInt(1, 15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return "The user asked about returns, second deliveries and replacement warehouses.";
        }).build();
        ConversationEngine engine = engine(args[0], summarizer);
        Conversation c = engine.as(alice()).create(NewConversation.inWorkspace("ws").build());
        System.out.println("conversation " + c.id());
        System.out.flush();
        for (int i = 1; ; i++) {
            String id = c.id() + "-" + i;
            c.send(Prompt.text(prompt(id)).id(id).build());
            System.out.println("ack " + id);
            System.out.flush();
        }
    }
}
