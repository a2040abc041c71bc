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
import dev.parley.policy.SecretsPolicy;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Time to the first streamed delta: a model that streams at once, called bare (its handler's first delta) and
 * through Parley ({@code Conversation.stream} until the listener's first delta), on the in-memory store and on a
 * durable H2 file. The difference is what the engine adds before the caller sees text: the message-id claim,
 * the stream lock, the history read and the request. Each operation ends at the first delta; the rest of the
 * stream is awaited outside the measurement. With {@code policies=during} the engine holds back the tail a DURING
 * policy could still be matching (the longest span a built-in needs, 256 characters) and releases text only once
 * it is checked; this reply is shorter than that, so its first delta reaches the listener when the model's stream
 * has ended and the whole reply has been checked.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar StreamBenchmark} (see BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class StreamBenchmark {
    /** Where Parley keeps the conversation: {@code memory} or a durable {@code h2file}. */
    @Param({"memory", "h2file"})
    public String store;

    /**
     * {@code none}, or {@code during}: the built-in policies a regulated host streams through (secrets block, PII
     * redact, a deny list logs), checking the reply DURING the stream only, so that the figure is the hold-back's.
     */
    @Param({"none", "during"})
    public String policies;

    /** A reply of about 40 words in deltas of a few tokens, as a model streams them. */
    private static final String[] DELTAS = ("Sure| here is| the plan| for next| week:| we review| the open| tickets on| Monday,| "
            + "ship the| release on| Wednesday| after the| last checks,| and send| the customer| report with| the numbers| on "
            + "Friday| morning.| Tell me| if you| want the| dates moved| or another| step added.").split("\\|");
    /** A prompt of about 40 words, and a history budget of about 20 such messages. */
    private static final String PROMPT = "Can you put together the plan for next week? We need the open tickets "
            + "reviewed, the release shipped after the last checks, and the customer report sent with this "
            + "month's numbers. Keep it short and tell me which day each step happens.";
    private static final int CONTEXT_SIZE = 20 * 55;

    /** Streams {@link #DELTAS} on the calling thread, as fast as it can. */
    static final class InstantStreamingModel implements ModelProvider {
        @Override
        public ModelResponse chat(ModelRequest request) {
            return new ModelResponse(String.join("", DELTAS), new Usage(CONTEXT_SIZE, 55));
        }

        @Override
        public void stream(ModelRequest request, StreamingHandler handler) {
            for (String delta : DELTAS) {
                handler.onDelta(delta);
            }
            handler.onComplete(chat(request));
        }
    }

    private final InstantStreamingModel model = new InstantStreamingModel();
    private Path dir;
    private ConversationEngine engine;
    private Conversation conversation;
    private StreamHandle running;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        ConversationEngine.Builder builder = ConversationEngine.builder().model("instant", model);
        if (policies.equals("during")) {
            builder.policies(PolicySet.of(
                    PolicyRule.block(SecretsPolicy.standard()).phases(PolicyPhase.DURING).build(),
                    PolicyRule.redact(PiiPolicy.standard()).phases(PolicyPhase.DURING).build(),
                    PolicyRule.log(DenyListPolicy.words("confidential", "internal only", "password", "salary"))
                            .phases(PolicyPhase.DURING).build()));
        }
        if (store.equals("h2file")) {
            dir = Files.createTempDirectory("parley-stream-bench");
            builder.store(JdbcConversationStore.h2File(dir.resolve("parley")));
        }
        engine = builder.build();
        conversation = engine.as(Caller.user("bench", "org").member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        engine.close();
        TempDirs.delete(dir);
    }

    /** The bare model: until its handler receives the first delta. */
    @Benchmark
    public Object bareModelFirstDelta() throws InterruptedException {
        CountDownLatch first = new CountDownLatch(1);
        model.stream(new ModelRequest("instant", java.util.List.of(), dev.parley.api.ModelParameters.NONE),
                new StreamingHandler() {
                    @Override
                    public void onDelta(String delta) {
                        first.countDown();
                    }

                    @Override
                    public void onComplete(ModelResponse response) {
                    }

                    @Override
                    public void onError(Throwable error) {
                    }

                    @Override
                    public boolean cancelled() {
                        return false;
                    }
                });
        first.await();
        return first;
    }

    /** Through Parley: from {@code stream} until the listener receives the first delta. */
    @Benchmark
    public Object parleyFirstDelta() throws InterruptedException {
        CountDownLatch first = new CountDownLatch(1);
        running = conversation.stream(Prompt.text(PROMPT).contextSize(CONTEXT_SIZE).build(), new StreamListener() {
            @Override
            public void onDelta(String delta) {
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
        return first;
    }

    /** Lets the stream of the last operation finish, outside the measured time, before the next one starts. */
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
