package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.Timeouts;
import dev.parley.api.credits.ModelPrice;
import dev.parley.testing.ScriptedModel;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The program {@link RandomKillTest} kills at random moments. Arguments: the store ({@code h2:<file>} or
 * {@code postgresql:<url>}), the organization, a prefix for message ids, a seed, and the conversation ids. It runs
 * one thread per conversation, each sending or streaming turns for ever, metered, with short leases
 * ({@link #LEASE}), and prints (whole lines, one writer at a time):
 * <ul>
 *   <li>{@code ready} once its engine is open;</li>
 *   <li>{@code begin <conversation> <id> <send|stream>} before each turn;</li>
 *   <li>{@code ack <conversation> <id> <credits> <reply text>} once {@code send} returned or the stream completed;</li>
 *   <li>{@code failed <conversation> <id>} when a turn was refused (a conversation still locked by a killed
 *       engine's stream, say), which stores nothing.</li>
 * </ul>
 */
public final class KilledAtRandom {
    /** The claim and stream leases, short so that what a killed engine held frees itself within seconds. */
    static final Duration LEASE = Duration.ofMillis(800);
    static final ModelPrice PRICE = ModelPrice.perThousand("1.5", "2.25");
    static final String WORKSPACE = "ws";

    private KilledAtRandom() {
    }

    /** The text of the prompt of a message id: a function of the id, so a resend can rebuild it. */
    static String prompt(String id) {
        return "Please answer turn " + id + " with a few words about the weather and the trains today";
    }

    /** The model of the child and of the test's checks: the reply is a function of the prompt. */
    static ScriptedModel model(Duration latency) {
        return ScriptedModel.builder()
                .replyWith(r -> "Reply to " + r.messages().get(r.messages().size() - 1).text().split(" ")[3]
                        + ": sunny in the morning, trains on time, rain later in the evening.")
                .usage(40, 20)
                .latency(latency)
                .chunkDelay(Duration.ofMillis(1))
                .build();
    }

    static ConversationEngine engine(JdbcConversationStore store, ScriptedModel model) {
        return ConversationEngine.builder()
                .store(store)
                .model("scripted", model)
                .defaultModel("scripted")
                .price("scripted", PRICE)
                .timeouts(Timeouts.builder().claimLease(LEASE).streamLease(LEASE).replayWait(Duration.ofSeconds(20))
                        .build())
                .build();
    }

    static Caller caller(String organization) {
        return Caller.user("alice", organization).member(WORKSPACE).build();
    }

    public static void main(String[] args) throws Exception {
        ChildJvms.exitWithParent();
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        String organization = args[1];
        String prefix = args[2];
        Random seeds = new Random(Long.parseLong(args[3]));
        List<String> conversations = List.of(args).subList(4, args.length);
        ConversationEngine engine = engine(TurnsUntilKilled.store(args[0]), model(Duration.ofMillis(3)));
        synchronized (out) {
            out.println("ready");
            out.flush();
        }
        for (int t = 0; t < conversations.size(); t++) {
            String conversationId = conversations.get(t);
            Random random = new Random(seeds.nextLong());
            String threadPrefix = prefix + "-c" + t;
            Thread worker = new Thread(() -> {
                Conversation c = engine.as(caller(organization)).get(conversationId);
                for (int i = 1; ; i++) {
                    String id = threadPrefix + "-" + i;
                    boolean stream = random.nextInt(3) == 0;
                    line(out, "begin " + conversationId + " " + id + " " + (stream ? "stream" : "send"));
                    try {
                        Reply reply = stream ? stream(c, id) : c.send(Prompt.text(prompt(id)).id(id).build());
                        line(out, "ack " + conversationId + " " + id + " " + reply.credits().used().toPlainString()
                                + " " + reply.text());
                    } catch (RuntimeException e) {
                        line(out, "failed " + conversationId + " " + id);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "turns-" + t);
            worker.start();
        }
        Thread.currentThread().join(); // until killed
    }

    private static Reply stream(Conversation c, String id) throws InterruptedException {
        AtomicReference<Reply> done = new AtomicReference<>();
        AtomicReference<RuntimeException> error = new AtomicReference<>();
        StreamHandle h = c.stream(Prompt.text(prompt(id)).id(id).build(), new StreamListener() {
            @Override
            public void onDelta(String delta) {
            }

            @Override
            public void onComplete(Reply reply) {
                done.set(reply);
            }

            @Override
            public void onError(RuntimeException e) {
                error.set(e);
            }
        });
        if (!h.await(Duration.ofMinutes(1))) {
            throw new IllegalStateException("the stream did not end");
        }
        if (error.get() != null) {
            throw error.get();
        }
        return done.get();
    }

    private static void line(PrintStream out, String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** Resends an interrupted or failed turn until the claim or stream lock it may still hold has lapsed. */
    static Reply resend(ConversationEngine engine, String org, String conversationId, String id)
            throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                return engine.as(caller(org)).get(conversationId)
                        .send(Prompt.text(KilledAtRandom.prompt(id)).id(id).build());
            } catch (ConversationLockedException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }
}
