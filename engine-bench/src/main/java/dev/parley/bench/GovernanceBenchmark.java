package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;
import dev.parley.policy.DenyListPolicy;
import dev.parley.policy.PiiPolicy;
import dev.parley.policy.PromptInjectionPolicy;
import dev.parley.policy.SecretsPolicy;
import dev.parley.policy.SizePolicy;
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
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What governance costs a turn: the same send, and the same stream's first delta, with no policies and with every
 * built-in policy of engine-policy but the LLM judge (whose cost is its model's), in one run.
 *
 * <ul>
 *   <li>{@code send}: history of 10 messages, a prompt of about 200 tokens (ordinary prose, nothing to find) and a
 *       reply of about 40 words from an instant model. With {@code builtins}, the prompt is checked at PRE by
 *       secrets (block), PII (redact), a 20-word deny list (log), a size limit (block) and the prompt-injection
 *       heuristics (block), and the reply at POST by secrets, PII and the deny list.</li>
 *   <li>{@code streamFirstDelta}: the same prompt, and a reply of about 400 characters streamed in 5-character
 *       deltas; with {@code builtins}, secrets, PII and the deny list check it DURING the stream (and the prompt at
 *       PRE as above). Measured until the listener's first delta. How many characters the model had streamed when
 *       the listener got its first one goes to {@code governance-report.txt}: what the stream holds back.</li>
 * </ul>
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar GovernanceBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class GovernanceBenchmark {
    /** {@code none}, or every built-in policy but the judge. */
    @Param({"none", "builtins"})
    public String policies;

    /** Where Parley keeps the conversation: {@code memory} or a durable {@code h2file}. */
    @Param({"memory", "h2file"})
    public String store;

    /** About 200 tokens of an ordinary request: nothing for a policy to find. */
    static final String PROMPT = "We are preparing the quarterly review for the operations team and I need help "
            + "structuring it. The review covers three areas: the support queue, where the median time to first "
            + "response went from four hours to just under three; the release process, where we moved from monthly "
            + "to fortnightly releases and saw fewer rollbacks; and hiring, where two of the four open positions "
            + "were filled. For each area, suggest a short heading, two or three bullet points that summarise what "
            + "changed and why it matters, and one question the team should discuss in the meeting. Keep the tone "
            + "factual and plain, avoid jargon, and do not invent numbers that are not in this message. At the end, "
            + "add a short paragraph on what we should measure next quarter so that the next review can compare "
            + "like with like, and mention anything in this plan that you think is missing or unclear. The meeting "
            + "is on Thursday morning and the slides go out the day before, so the outline should fit on two pages.";

    /** A reply of about 40 words. */
    static final String REPLY = "Here is an outline with three sections: support, releases and hiring. Each has a "
            + "heading, three points on what changed and one question for the team, followed by a short note on "
            + "what to measure next quarter and two gaps in the current plan.";

    /** About 400 characters, streamed five at a time. */
    static final String STREAMED = (REPLY + " " + REPLY).substring(0, 400);

    /** An instant model; streams {@link #STREAMED} in 5-character deltas on the calling thread. */
    static final class InstantModel implements ModelProvider {
        final AtomicInteger streamed = new AtomicInteger();

        @Override
        public ModelResponse chat(ModelRequest request) {
            return new ModelResponse(REPLY, new Usage(300, 55));
        }

        @Override
        public void stream(ModelRequest request, StreamingHandler handler) {
            streamed.set(0);
            for (int i = 0; i < STREAMED.length() && !handler.cancelled(); i += 5) {
                String delta = STREAMED.substring(i, Math.min(STREAMED.length(), i + 5));
                streamed.addAndGet(delta.length());
                handler.onDelta(delta);
            }
            handler.onComplete(new ModelResponse(STREAMED, new Usage(300, 100)));
        }
    }

    /** The built-ins a host would switch on for a regulated workload, but the judge. */
    static PolicySet builtIns() {
        return PolicySet.of(
                PolicyRule.block(SecretsPolicy.standard()).build(),
                PolicyRule.redact(PiiPolicy.standard()).build(),
                PolicyRule.log(DenyListPolicy.words("confidential", "internal only", "do not distribute", "password",
                        "salary", "layoff", "acquisition", "lawsuit", "settlement", "breach", "exploit", "malware",
                        "ransomware", "phishing", "insider", "embargo", "classified", "restricted", "secret project",
                        "merger")).build(),
                PolicyRule.block(SizePolicy.maxChars(32_000)).phases(PolicyPhase.PRE).build(),
                PolicyRule.block(PromptInjectionPolicy.standard()).phases(PolicyPhase.PRE).build());
    }

    private final InstantModel model = new InstantModel();
    private Path dir;
    private ConversationEngine engine;
    private Conversation conversation;
    private StreamHandle running;
    private long firstDeltas;
    private long heldTotal;
    private int heldMax;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        ConversationEngine.Builder builder = ConversationEngine.builder().model("instant", model);
        if (policies.equals("builtins")) {
            builder.policies(builtIns());
        }
        if (store.equals("h2file")) {
            dir = Files.createTempDirectory("parley-governance-bench");
            builder.store(JdbcConversationStore.h2File(dir.resolve("parley")));
        }
        engine = builder.build();
        conversation = engine.as(Caller.user("bench", "org").member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
        for (int i = 0; i < 5; i++) {
            conversation.send(Prompt.text(PROMPT).build()); // 10 messages of history
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        engine.close();
        if (firstDeltas > 0) {
            String line = String.format("GovernanceBenchmark policies=%s store=%s: the model had streamed %.1f "
                            + "characters on average (at most %d) when the listener got its first delta, over %d "
                            + "streams%n", policies, store, (double) heldTotal / firstDeltas, heldMax, firstDeltas);
            Files.writeString(Path.of("governance-report.txt"), line, StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
        TempDirs.delete(dir);
    }

    /** One whole send, stored as a user's is (a turn costs the same whatever the history's length). */
    @Benchmark
    public Reply send() {
        Reply reply = conversation.send(Prompt.text(PROMPT).build());
        if (!reply.text().equals(REPLY)) {
            throw new IllegalStateException("the benchmark's reply was changed");
        }
        return reply;
    }

    /** From {@code stream} until the listener's first delta. */
    @Benchmark
    public Object streamFirstDelta() throws InterruptedException {
        CountDownLatch first = new CountDownLatch(1);
        int[] heldWhenFirst = {-1};
        running = conversation.stream(Prompt.text(PROMPT).build(), new StreamListener() {
            @Override
            public void onDelta(String delta) {
                if (heldWhenFirst[0] < 0) {
                    heldWhenFirst[0] = model.streamed.get() - delta.length();
                }
                first.countDown();
            }

            @Override
            public void onComplete(Reply reply) {
            }

            @Override
            public void onError(RuntimeException error) {
                first.countDown();
                throw new IllegalStateException("the benchmark's stream failed", error);
            }
        });
        first.await();
        firstDeltas++;
        heldTotal += Math.max(0, heldWhenFirst[0]);
        heldMax = Math.max(heldMax, heldWhenFirst[0]);
        return first;
    }

    /** Lets the stream of the last operation finish, outside the measured time. */
    @TearDown(Level.Invocation)
    public void awaitStream() throws InterruptedException {
        if (running != null) {
            if (!running.await(Duration.ofSeconds(10))) {
                throw new IllegalStateException("a stream did not finish within 10 s");
            }
            running = null;
        }
    }
}
