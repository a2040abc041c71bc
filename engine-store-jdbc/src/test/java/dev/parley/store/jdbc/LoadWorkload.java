package dev.parley.store.jdbc;

import dev.parley.api.BudgetExceededException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.Usage;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.Policy;
import dev.parley.testing.ScriptedModel;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The mixed turns of {@link LoadTest}: sends with and without a client id, streams to the end, streams cancelled
 * after a few deltas, replays of acknowledged ids, prompts a PRE policy blocks, prompts the model fails on, over
 * organizations some of which run out of credits. Every attempt's outcome is recorded as an {@link Attempt}, which
 * the checks compare with what the store holds. A child JVM ({@link LoadChild}) runs the same workload on a
 * second engine and writes its attempts to a file.
 */
final class LoadWorkload {
    static final String MODEL = "scripted";
    static final ModelPrice PRICE = ModelPrice.perThousand("1.5", "2.25");
    static final Usage USAGE = new Usage(40, 20);
    /** What a policy blocks before the model call. */
    static final String FORBIDDEN = "forbidden-topic";
    /** What makes the model throw. */
    static final String FAIL = "FAIL";
    static final String WORKSPACE = "ws-load";

    private static final String[] SENTENCES = {
            "Can you summarise the three open support tickets from this morning and tell me which is urgent",
            "I moved to a new flat last week and need to update the delivery address on every open order",
            "Please draft a short friendly reply to the customer who asked about the refund for order 4471",
            "What changed between the last two releases of the billing service and is anything risky in it",
            "My password reset link expired before I could use it, how do I get a new one sent to me",
            "Compare the two laptop offers in price, battery life and weight and recommend one for travel",
            "Write a haiku about a cat watching rain from a kitchen window on a grey Sunday afternoon",
            "How many vacation days do I have left this year if I already took twelve of twenty-eight"};

    /** How one attempt ended. */
    enum Outcome { STORED, REPLAYED, LOCKED, BUDGET, BLOCKED, MODEL_FAILED, UNEXPECTED }

    /** What one attempt was. */
    enum Kind { SEND, SEND_WITHOUT_ID, STREAM, CANCELLED_STREAM, REPLAY, BLOCKED_PROMPT, FAILING_PROMPT }

    /**
     * One attempt and how it ended; for a stored or replayed turn, the reply's id, status, text, credits and usage.
     * Lines of tab-separated fields, so a child JVM can write them to a file.
     */
    record Attempt(Kind kind, String conversationId, String promptId, String prompt, Outcome outcome, String status,
                   String replyId, String reply, String credits, long tokensIn, long tokensOut, String error) {
        String line() {
            return String.join("\t", kind.name(), conversationId, promptId, prompt, outcome.name(), status, replyId,
                    reply, credits, Long.toString(tokensIn), Long.toString(tokensOut), error.replace('\t', ' ')
                            .replace('\n', ' '));
        }

        static Attempt parse(String line) {
            String[] f = line.split("\t", -1);
            return new Attempt(Kind.valueOf(f[0]), f[1], f[2], f[3], Outcome.valueOf(f[4]), f[5], f[6], f[7], f[8],
                    Long.parseLong(f[9]), Long.parseLong(f[10]), f[11]);
        }

        static Attempt of(Kind kind, String conversationId, String promptId, String prompt, Reply reply) {
            return new Attempt(kind, conversationId, reply.promptId(), prompt,
                    reply.replayed() ? Outcome.REPLAYED : Outcome.STORED, reply.status().name(), reply.messageId(),
                    reply.text(), reply.credits().used().toPlainString(), reply.usage().tokensIn(),
                    reply.usage().tokensOut(), "");
        }

        static Attempt failed(Kind kind, String conversationId, String promptId, String prompt, RuntimeException e) {
            Outcome outcome = e instanceof ConversationLockedException ? Outcome.LOCKED
                    : e instanceof BudgetExceededException ? Outcome.BUDGET
                    : e instanceof PolicyBlockedException ? Outcome.BLOCKED
                    : e instanceof ModelUnavailableException ? Outcome.MODEL_FAILED
                    : Outcome.UNEXPECTED;
            return new Attempt(kind, conversationId, promptId, prompt, outcome, "", "", "", "0", 0, 0,
                    e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** A conversation of the workload and the organization it belongs to. */
    record Target(String conversationId, String organizationId) {
        static Target parse(String line) {
            String[] f = line.split("\t");
            return new Target(f[0], f[1]);
        }

        String line() {
            return conversationId + "\t" + organizationId;
        }
    }

    private LoadWorkload() {
    }

    /** The workload's model: answers at once with words from the prompt, reports {@link #USAGE}. */
    static ScriptedModel model() {
        return ScriptedModel.builder().replyWith(request -> {
            String last = request.messages().get(request.messages().size() - 1).text();
            if (last.startsWith(FAIL)) {
                throw new IllegalStateException("scripted failure");
            }
            String[] words = last.split(" ");
            return "Noted: " + String.join(" ", List.of(words).subList(0, Math.min(6, words.length)))
                    + " and here is what I would do about it next.";
        }).usage(USAGE.tokensIn(), USAGE.tokensOut()).build();
    }

    /** An engine for the workload on a store: the model priced, the PRE policy on {@link #FORBIDDEN}. */
    static ConversationEngine engine(JdbcConversationStore store) {
        return ConversationEngine.builder()
                .store(store)
                .model(MODEL, model())
                .defaultModel(MODEL)
                .price(MODEL, PRICE)
                .policies(PolicySet.of(PolicyRule.block(new ForbiddenTopic()).phases(PolicyPhase.PRE).build()))
                .build();
    }

    static Caller caller(String organizationId) {
        return Caller.user("load-user", organizationId).member(WORKSPACE).build();
    }

    /**
     * Runs {@code turnsPerThread} attempts on each of {@code threads} threads over the targets, and returns every
     * attempt. {@code tag} keeps the client ids of engines that share a store apart.
     */
    static List<Attempt> run(ConversationEngine engine, List<Target> targets, int threads, int turnsPerThread,
                             long seed, String tag) throws InterruptedException {
        List<Attempt> all = new CopyOnWriteArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<Attempt>>> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long workerSeed = seed * 1_000 + t;
                String prefix = tag + "-t" + t;
                workers.add(pool.submit(() -> worker(engine, targets, turnsPerThread, new Random(workerSeed), prefix)));
            }
            for (Future<List<Attempt>> w : workers) {
                try {
                    all.addAll(w.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("a load worker died", e.getCause());
                }
            }
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(1, TimeUnit.MINUTES);
        }
        return List.copyOf(all);
    }

    private static List<Attempt> worker(ConversationEngine engine, List<Target> targets, int turns, Random random,
                                        String prefix) throws InterruptedException {
        List<Attempt> attempts = new ArrayList<>(turns);
        List<Attempt> replayable = new ArrayList<>();
        for (int i = 0; i < turns; i++) {
            Target target = targets.get(random.nextInt(targets.size()));
            Conversation c = engine.as(caller(target.organizationId())).get(target.conversationId());
            String id = prefix + "-" + i;
            String sentence = SENTENCES[random.nextInt(SENTENCES.length)];
            int dice = random.nextInt(100);
            Attempt a;
            if (dice < 45) {
                a = send(c, Kind.SEND, id, sentence);
            } else if (dice < 55) {
                a = send(c, Kind.SEND_WITHOUT_ID, null, sentence);
            } else if (dice < 70) {
                a = stream(c, Kind.STREAM, id, sentence, Integer.MAX_VALUE);
            } else if (dice < 78) {
                a = stream(c, Kind.CANCELLED_STREAM, id, sentence, 1 + random.nextInt(3));
            } else if (dice < 92 && !replayable.isEmpty()) {
                Attempt earlier = replayable.get(random.nextInt(replayable.size()));
                Conversation of = engine.as(caller(organizationOf(targets, earlier.conversationId())))
                        .get(earlier.conversationId());
                a = send(of, Kind.REPLAY, earlier.promptId(), earlier.prompt());
            } else if (dice < 96) {
                a = send(c, Kind.BLOCKED_PROMPT, id, "Tell me about the " + FORBIDDEN + " please");
            } else {
                a = send(c, Kind.FAILING_PROMPT, id, FAIL + " " + sentence);
            }
            attempts.add(a);
            if (a.outcome() == Outcome.STORED && a.kind() != Kind.REPLAY) {
                replayable.add(a);
            }
        }
        return attempts;
    }

    private static String organizationOf(List<Target> targets, String conversationId) {
        for (Target t : targets) {
            if (t.conversationId().equals(conversationId)) {
                return t.organizationId();
            }
        }
        throw new IllegalArgumentException("unknown conversation " + conversationId);
    }

    private static Attempt send(Conversation c, Kind kind, String id, String text) {
        Prompt.Builder p = Prompt.text(text);
        if (id != null) {
            p.id(id);
        }
        try {
            return Attempt.of(kind, c.id(), id, text, c.send(p.build()));
        } catch (RuntimeException e) {
            return Attempt.failed(kind, c.id(), id == null ? "-" : id, text, e);
        }
    }

    private static Attempt stream(Conversation c, Kind kind, String id, String text, int cancelAfter)
            throws InterruptedException {
        List<Reply> completions = new CopyOnWriteArrayList<>();
        List<RuntimeException> errors = new CopyOnWriteArrayList<>();
        int[] deltas = new int[1];
        StreamListener listener = new StreamListener() {
            @Override
            public void onDelta(String delta) {
                if (++deltas[0] == cancelAfter) {
                    c.cancelStream(id);
                }
            }

            @Override
            public void onComplete(Reply reply) {
                completions.add(reply);
            }

            @Override
            public void onError(RuntimeException error) {
                errors.add(error);
            }
        };
        StreamHandle h;
        try {
            h = c.stream(Prompt.text(text).id(id).build(), listener);
        } catch (RuntimeException e) {
            return Attempt.failed(kind, c.id(), id, text, e);
        }
        if (!h.await(Duration.ofMinutes(1))) {
            return Attempt.failed(kind, c.id(), id, text, new IllegalStateException("the stream did not end"));
        }
        if (completions.size() + errors.size() != 1) {
            return Attempt.failed(kind, c.id(), id, text,
                    new IllegalStateException("terminal events: " + completions.size() + " + " + errors.size()));
        }
        return errors.isEmpty() ? Attempt.of(kind, c.id(), id, text, completions.get(0))
                : Attempt.failed(kind, c.id(), id, text, errors.get(0));
    }

    static void write(Path file, List<Attempt> attempts) {
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Attempt a : attempts) {
                w.write(a.line());
                w.newLine();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Attempt> read(Path file) throws IOException {
        return Files.readAllLines(file, StandardCharsets.UTF_8).stream().filter(l -> !l.isEmpty())
                .map(Attempt::parse).toList();
    }

    static String newTag() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    /** Finds {@link #FORBIDDEN} in a text. */
    static final class ForbiddenTopic implements Policy {
        @Override
        public String id() {
            return "forbidden-topic";
        }

        @Override
        public List<Finding> check(PolicyInput input) {
            int at = input.text().indexOf(FORBIDDEN);
            return at < 0 ? List.of()
                    : List.of(new Finding(at, at + FORBIDDEN.length(), "TOPIC", id(), "a forbidden topic"));
        }

        @Override
        public int maxSpan() {
            return FORBIDDEN.length();
        }
    }
}
