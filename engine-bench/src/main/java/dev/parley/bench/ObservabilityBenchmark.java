package dev.parley.bench;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Usage;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.values.ModelResponse;
import dev.parley.micrometer.ParleyMetrics;
import dev.parley.opentelemetry.ParleyTracing;
import dev.parley.store.jdbc.JdbcConversationStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
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

import java.util.Collection;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What metrics and traces add to a turn: the same send bare, and with both {@code engine-micrometer} (on a
 * {@link SimpleMeterRegistry}, with its own observation registry timing turns, stages and model calls) and
 * {@code engine-opentelemetry} (the SDK, every span sampled, made into span data as it ends and handed to an exporter that
 * drops it: a batch processor's queue would drop spans itself under a benchmark's load, and flatter the figure) attached
 * through {@link EngineListener#factories}, in one run. As in {@link ListenerBenchmark}, an in-memory H2 store and an
 * instant model, so that the figure is the engine's work and not a disk's. Target: the observed turn at most 1.1×
 * the bare one.
 *
 * <p>Run: {@code java -jar engine-bench/target/benchmarks.jar ObservabilityBenchmark -bm sample -tu us} (see
 * BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(value = 2, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ObservabilityBenchmark {
    /** {@code bare}: no listener; {@code metrics} or {@code traces}: one module; {@code observed}: both. */
    @Param({"bare", "metrics", "traces", "observed"})
    public String observability;

    private static final int HISTORY = 10;
    private static final int CONTEXT_SIZE = 200 + 2;

    private ConversationEngine engine;
    private Conversation conversation;
    private SdkTracerProvider tracerProvider;

    @Setup(Level.Trial)
    public void setUp() {
        JdbcConversationStore store = JdbcConversationStore.h2InMemory("observability-" + UUID.randomUUID());
        ConversationEngine.Builder b = ConversationEngine.builder()
                .store(store)
                .model("instant", request -> new ModelResponse("All right.", new Usage(200, 3)));
        boolean metrics = observability.equals("metrics") || observability.equals("observed");
        boolean traces = observability.equals("traces") || observability.equals("observed");
        if (!metrics && !traces && !observability.equals("bare")) {
            throw new IllegalArgumentException("observability: " + observability);
        }
        java.util.List<EngineListener.Factory> listeners = new java.util.ArrayList<>();
        if (traces) {
            tracerProvider = SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(new DroppingExporter()))
                    .build();
            listeners.add(ParleyTracing.builder(
                    OpenTelemetrySdk.builder().setTracerProvider(tracerProvider).build()).build());
        }
        if (metrics) {
            listeners.add(ParleyMetrics.builder(new SimpleMeterRegistry()).build());
        }
        if (!listeners.isEmpty()) {
            b.eventListenerFactory(EngineListener.factories(listeners.toArray(EngineListener.Factory[]::new)));
        }
        engine = b.build();
        conversation = engine.as(Caller.user("bench", "org").member("ws").build())
                .create(NewConversation.inWorkspace("ws").build());
        TurnBenchmark.fill(store, conversation.id(), HISTORY);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        engine.close();
        if (tracerProvider != null) {
            tracerProvider.close();
        }
    }

    @Benchmark
    public Reply send() {
        return conversation.send(Prompt.text("What about the plan?").contextSize(CONTEXT_SIZE).build());
    }

    /** Takes every span and keeps none: the SDK's work is measured, not an exporter's. */
    public static final class DroppingExporter implements SpanExporter {
        @Override
        public CompletableResultCode export(Collection<SpanData> spans) {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
        }

        @Override
        public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
        }
    }
}
