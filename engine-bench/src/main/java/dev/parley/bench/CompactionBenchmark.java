package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Usage;
import dev.parley.api.compaction.Compaction;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.SummaryLog;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.store.jdbc.JdbcConversationStore;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What summarizing compaction costs a turn: the same send, with compaction off and on, in one run. 200
 * conversations of 60 turns each (messages of about 40 words, about 50 tokens), a history budget of 2,000 tokens, so
 * that every turn leaves history out; turns go to the conversations in turn. With {@code on}, a summary is written
 * whenever a conversation's uncovered left-out history passes 1,000 tokens (about every ten of its turns), by an
 * instant summarizer answering about 60 words: the turns measured pay for the summary read of their context stage
 * and share the machine with the compactions their turns start. With {@code slow-summarizer} the summarizer takes
 * 200 ms, as a real model does: fewer compactions keep up with the instant turns, but every conversation has its
 * summary, which each turn reads and sends. Setup waits until the preloaded conversations are compacted (with an
 * instant summarizer), so that the measurement sees the steady state.
 *
 * <p>How many summaries the measured turns caused goes to {@code compaction-report.txt}.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar CompactionBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class CompactionBenchmark {
    static final int CONVERSATIONS = 200;
    static final int TURNS = 60;
    static final int CONTEXT = 2_000;

    /**
     * {@code off}; {@code on} with a threshold of 1,000 tokens and an instant summarizer, whose compactions then keep
     * a core busy beside the turns (the worst case); or {@code slow-summarizer}, the same with a summarizer that
     * takes 200 ms as a real model does, so that the compactions' own work is what it would be in production.
     */
    @Param({"off", "on", "slow-summarizer"})
    public String compaction;

    /** Where Parley keeps the conversations: {@code memory} or a durable {@code h2file}. */
    @Param({"memory", "h2file"})
    public String store;

    /** A prompt of about forty words. */
    static String prompt(int i) {
        return "Order " + i + " arrived with a damaged box and one of the two mugs cracked; the customer wants a "
                + "replacement rather than a refund, asks whether the second mug can be sent separately, and wants to "
                + "know if the courier will collect the broken one from her office.";
    }

    /** A reply of about forty words. */
    static final String REPLY = "I have arranged a replacement for the cracked mug, sent on its own by express "
            + "delivery at no charge; the courier will collect the broken one from the office address on the order "
            + "between nine and five tomorrow, and no refund is needed.";

    /** About sixty words. */
    static final String SUMMARY = "The customer reported damaged deliveries across several orders, usually a cracked "
            + "mug in a damaged box. She prefers replacements to refunds, wants replacements sent separately by express "
            + "delivery, and asked for couriers to collect broken items from her office. Each time a replacement was "
            + "arranged at no charge with collection between nine and five the next day.";

    /** A chat model answering at once, or after {@link #latencyMs}. */
    static final class Instant implements ModelProvider {
        private final String text;
        final AtomicInteger calls = new AtomicInteger();
        volatile long latencyMs;

        Instant(String text) {
            this.text = text;
        }

        @Override
        public ModelResponse chat(ModelRequest request) {
            calls.incrementAndGet();
            if (latencyMs > 0) {
                try {
                    Thread.sleep(latencyMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new ModelResponse(text, new Usage(2_000, 55));
        }
    }

    private final Instant model = new Instant(REPLY);
    private final Instant summarizer = new Instant(SUMMARY);
    private Path dir;
    private ConversationEngine engine;
    private final List<Conversation> conversations = new ArrayList<>();
    private int next;
    private int callsAtStart;

    @Setup(Level.Trial)
    public void setUp() throws IOException, InterruptedException {
        ConversationEngine.Builder builder = ConversationEngine.builder().model("instant", model)
                .model("summarizer", summarizer).defaultModel("instant").defaultContextSize(CONTEXT);
        if (!compaction.equals("off")) {
            builder.compaction(Compaction.summarizeWith("summarizer").threshold(1_000).maxInputTokens(4_000).build());
        }
        if (store.equals("h2file")) {
            dir = Files.createTempDirectory("parley-compaction-bench");
            builder.store(JdbcConversationStore.h2File(dir.resolve("parley")));
        } else {
            builder.store(new dev.parley.core.InMemoryConversationStore()); // the default, named to count its summaries
        }
        engine = builder.build();
        var as = engine.as(Caller.user("bench", "org").member("ws").build());
        for (int c = 0; c < CONVERSATIONS; c++) {
            conversations.add(as.create(NewConversation.inWorkspace("ws").build()));
        }
        for (int t = 0; t < TURNS; t++) {
            for (Conversation c : conversations) {
                c.send(Prompt.text(prompt(t)).build());
            }
        }
        // Let the compactions the preload started finish: quiet for a second.
        int calls = -1;
        while (calls != summarizer.calls.get()) {
            calls = summarizer.calls.get();
            Thread.sleep(1_000);
        }
        callsAtStart = summarizer.calls.get();
        if (compaction.equals("slow-summarizer")) {
            summarizer.latencyMs = 200;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        int summaries = 0;
        var store = engine.config().configuredStore();
        if (store.isPresent() && store.get() instanceof SummaryLog log) {
            for (Conversation c : conversations) {
                summaries += log.summaries(c.id()).size();
            }
        }
        String line = String.format("CompactionBenchmark compaction=%s store=%s: %d summarizer calls during the "
                        + "measured turns, %d summaries stored in all, over %d conversations%n", compaction, this.store,
                summarizer.calls.get() - callsAtStart, summaries, CONVERSATIONS);
        Files.writeString(Path.of("compaction-report.txt"), line, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        engine.close();
        TempDirs.delete(dir);
    }

    /** One send to the next conversation, whose history no longer fits its context. */
    @Benchmark
    public Reply send() {
        Conversation c = conversations.get(next);
        next = (next + 1) % conversations.size();
        Reply reply = c.send(Prompt.text(prompt(next)).build());
        if (!reply.text().equals(REPLY)) {
            throw new IllegalStateException("the benchmark's reply was changed");
        }
        return reply;
    }
}
