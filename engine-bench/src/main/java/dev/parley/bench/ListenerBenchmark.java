package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.MessageStatus;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Usage;
import dev.parley.api.spi.EngineListener;
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

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * What an {@link EngineListener} adds to a turn: the same send with no listener and with one that counts every
 * event, on an in-memory H2 store so that the figure is the engine's work and not a disk's (on a durable file a
 * commit's write varies more from run to run than the listener costs).
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar ListenerBenchmark -bm sample -tu us} (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ListenerBenchmark {
    /** No listener, or one counting every event. */
    @Param({"none", "counting"})
    public String listener;

    private static final int HISTORY = 10;
    private static final int CONTEXT_SIZE = 200 + 2;

    private final LongAdder[] counts = new LongAdder[16];
    private ConversationEngine engine;
    private Conversation conversation;

    @Setup(Level.Trial)
    public void setUp() {
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new LongAdder();
        }
        JdbcConversationStore store = JdbcConversationStore.h2InMemory("listener-" + UUID.randomUUID());
        ConversationEngine.Builder b = ConversationEngine.builder()
                .store(store)
                .model("instant", request -> new ModelResponse("All right.", new Usage(200, 3)));
        if (listener.equals("counting")) {
            b.eventListener(new CountingListener(counts));
        }
        engine = b.build();
        conversation = engine.as(Caller.user("bench", "org").member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
        TurnBenchmark.fill(store, conversation.id(), HISTORY);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
    }

    @Benchmark
    public Reply send() {
        return conversation.send(Prompt.text("What about the plan?").contextSize(CONTEXT_SIZE).build());
    }

    /** Counts each kind of event it is told of: the least a metrics listener does. */
    static final class CountingListener implements EngineListener {
        private final LongAdder[] counts;

        CountingListener(LongAdder[] counts) {
            this.counts = counts;
        }

        @Override
        public void turnStart(TurnContext turn) {
            counts[0].increment();
        }

        @Override
        public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
            counts[1].increment();
        }

        @Override
        public void turnFailed(TurnContext turn, RuntimeException error) {
            counts[2].increment();
        }

        @Override
        public void stageStart(TurnContext turn, String stage) {
            counts[3].increment();
        }

        @Override
        public void stageEnd(TurnContext turn, String stage) {
            counts[4].increment();
        }

        @Override
        public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
            counts[5].increment();
        }

        @Override
        public void modelCallStart(TurnContext turn, String model) {
            counts[6].increment();
        }

        @Override
        public void firstDelta(TurnContext turn) {
            counts[7].increment();
        }

        @Override
        public void modelCallEnd(TurnContext turn, Usage usage) {
            counts[8].increment();
        }

        @Override
        public void modelCallFailed(TurnContext turn, RuntimeException error) {
            counts[9].increment();
        }

        @Override
        public void commitStart(TurnContext turn) {
            counts[10].increment();
        }

        @Override
        public void commitEnd(TurnContext turn) {
            counts[11].increment();
        }

        @Override
        public void commitFailed(TurnContext turn, RuntimeException error) {
            counts[12].increment();
        }
    }
}
