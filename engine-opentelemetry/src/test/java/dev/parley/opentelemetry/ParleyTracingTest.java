package dev.parley.opentelemetry;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.testing.ScriptedModel;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.semconv.ErrorAttributes;
import io.opentelemetry.semconv.incubating.GenAiIncubatingAttributes;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The spans of a send and of a stream, read from the SDK's in-memory exporter. */
class ParleyTracingTest {
    private static final String MODEL = "scripted";
    private static final String WS = "ws-1";
    private static final String PROMPT = "What is the zebra's favourite number?";
    private static final String REPLY = "The zebra likes 444.";

    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider provider = SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider).build();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
        provider.close();
    }

    private Conversation conversation(ParleyTracing tracing, ScriptedModel model,
                                      UnaryOperator<PromptPipeline> pipeline) {
        engine = ConversationEngine.builder().store(new InMemoryConversationStore()).model(MODEL, model)
                .eventListenerFactory(tracing).pipeline(pipeline.apply(PromptPipeline.defaults())).build();
        return engine.as(Caller.user("alice", "org-1").member(WS).build())
                .create(NewConversation.inWorkspace(WS).build());
    }

    private static ScriptedModel model() {
        return ScriptedModel.builder().replyWith(r -> REPLY).usage(120, 7).build();
    }

    private List<SpanData> spans() {
        return exporter.getFinishedSpanItems();
    }

    private static SpanData named(List<SpanData> spans, String name) {
        return spans.stream().filter(s -> s.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no span " + name + " in " + names(spans)));
    }

    private static List<String> names(List<SpanData> spans) {
        return spans.stream().map(SpanData::getName).toList();
    }

    private static Map<String, SpanData> byId(List<SpanData> spans) {
        return spans.stream().collect(Collectors.toMap(SpanData::getSpanId, s -> s));
    }

    /** The names of a span's ancestors within the turn, nearest first. */
    private static List<String> ancestors(List<SpanData> spans, SpanData span) {
        Map<String, SpanData> ids = byId(spans);
        List<String> out = new java.util.ArrayList<>();
        for (SpanData p = ids.get(span.getParentSpanId()); p != null; p = ids.get(p.getParentSpanId())) {
            out.add(p.getName());
        }
        return out;
    }

    /** No attribute of any span or event holds {@code text}. */
    private static void assertNowhere(List<SpanData> spans, String text) {
        for (SpanData s : spans) {
            assertThat(s.getName()).doesNotContain(text);
            s.getAttributes().forEach((k, v) -> assertThat(String.valueOf(v)).as("%s of %s", k, s.getName())
                    .doesNotContain(text));
            for (EventData e : s.getEvents()) {
                e.getAttributes().forEach((k, v) -> assertThat(String.valueOf(v)).doesNotContain(text));
            }
        }
    }

    @Test
    void aSendIsATurnSpanWithAChildPerStageAndTheModelCallUnderTheProviderStage() {
        Conversation c = conversation(ParleyTracing.builder(otel).build(), model(), p -> p);

        Reply reply = c.send(Prompt.text(PROMPT).id("m-1").build());

        List<SpanData> spans = spans();
        SpanData turn = named(spans, ParleyTracing.TURN_SPAN);
        assertThat(turn.getParentSpanContext().isValid()).isFalse();
        assertThat(turn.getAttributes().get(AttributeKey.stringKey("gen_ai.operation.name"))).isEqualTo("chat");
        assertThat(turn.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_OPERATION_NAME)).isEqualTo(
                GenAiIncubatingAttributes.GenAiOperationNameIncubatingValues.CHAT);
        assertThat(turn.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_REQUEST_MODEL)).isEqualTo(MODEL);
        assertThat(turn.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_CONVERSATION_ID)).isEqualTo(c.id());
        assertThat(turn.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_USAGE_INPUT_TOKENS))
                .isEqualTo(reply.usage().tokensIn());
        assertThat(turn.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_USAGE_OUTPUT_TOKENS))
                .isEqualTo(reply.usage().tokensOut());
        assertThat(turn.getAttributes().get(SpanNames.MESSAGE_ID)).isEqualTo("m-1");
        assertThat(turn.getAttributes().get(SpanNames.CONVERSATION_ID)).isEqualTo(c.id());
        assertThat(turn.getAttributes().get(SpanNames.REPLAYED)).isFalse();
        assertThat(turn.getAttributes().get(SpanNames.OUTCOME)).isEqualTo("COMPLETE");
        assertThat(turn.getAttributes().get(SpanNames.CREDITS_METERED)).isFalse();
        assertThat(turn.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        SpanData access = named(spans, "parley.stage AccessStage");
        assertThat(access.getParentSpanId()).isEqualTo(turn.getSpanId());
        SpanData call = named(spans, "chat " + MODEL);
        assertThat(call.getKind()).isEqualTo(SpanKind.CLIENT);
        assertThat(call.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_USAGE_INPUT_TOKENS)).isEqualTo(120L);
        assertThat(call.getAttributes().get(GenAiIncubatingAttributes.GEN_AI_USAGE_OUTPUT_TOKENS)).isEqualTo(7L);
        assertThat(ancestors(spans, call)).startsWith("parley.stage ProviderCallStage").endsWith(
                "parley.stage AccessStage", ParleyTracing.TURN_SPAN);
        assertThat(ancestors(spans, named(spans, ParleyTracing.COMMIT_SPAN)))
                .startsWith("parley.stage PersistStage");
        assertThat(spans).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(turn.getTraceId()));
        assertThat(names(spans)).hasSize(1 + 8 + 1 + 1); // turn, the eight default stages, model call, commit

        assertThat(turn.getAttributes().get(SpanNames.GEN_AI_INPUT_MESSAGES)).isNull();
        assertNowhere(spans, "zebra");
        assertNowhere(spans, "444");
    }

    @Test
    void ourAttributeNamesAreTheConventionsOwn() {
        assertThat(SpanNames.GEN_AI_OPERATION_NAME).isEqualTo(GenAiIncubatingAttributes.GEN_AI_OPERATION_NAME);
        assertThat(SpanNames.GEN_AI_REQUEST_MODEL).isEqualTo(GenAiIncubatingAttributes.GEN_AI_REQUEST_MODEL);
        assertThat(SpanNames.GEN_AI_CONVERSATION_ID).isEqualTo(GenAiIncubatingAttributes.GEN_AI_CONVERSATION_ID);
        assertThat(SpanNames.GEN_AI_USAGE_INPUT_TOKENS)
                .isEqualTo(GenAiIncubatingAttributes.GEN_AI_USAGE_INPUT_TOKENS);
        assertThat(SpanNames.GEN_AI_USAGE_OUTPUT_TOKENS)
                .isEqualTo(GenAiIncubatingAttributes.GEN_AI_USAGE_OUTPUT_TOKENS);
        assertThat(SpanNames.ERROR_TYPE).isEqualTo(ErrorAttributes.ERROR_TYPE);
        assertThat(SpanNames.CHAT).isEqualTo(GenAiIncubatingAttributes.GenAiOperationNameIncubatingValues.CHAT);
    }

    @Test
    void aStreamsSpansOnItsThreadAreChildrenOfItsTurnWhichIsAChildOfTheCallersSpan() throws Exception {
        Conversation c = conversation(ParleyTracing.builder(otel).build(),
                ScriptedModel.builder().replyWith(r -> REPLY).chunkDelay(Duration.ofMillis(1)).build(), p -> p);
        Span request = otel.getTracer("host").spanBuilder("host.request").startSpan();
        List<String> deltas = new CopyOnWriteArrayList<>();
        String callerThread = Thread.currentThread().getName();
        List<String> streamThreads = new CopyOnWriteArrayList<>();
        try (Scope ignored = request.makeCurrent()) {
            StreamHandle h = c.stream(Prompt.text(PROMPT).build(), new StreamListener() {
                @Override
                public void onDelta(String delta) {
                    deltas.add(delta);
                }

                @Override
                public void onComplete(Reply reply) {
                    streamThreads.add(Thread.currentThread().getName());
                }

                @Override
                public void onError(RuntimeException error) {
                }
            });
            assertThat(h.await(Duration.ofSeconds(30))).isTrue();
        } finally {
            request.end();
        }

        assertThat(streamThreads).singleElement().isNotEqualTo(callerThread);
        List<SpanData> spans = spans();
        SpanData host = named(spans, "host.request");
        SpanData turn = named(spans, ParleyTracing.TURN_SPAN);
        assertThat(turn.getParentSpanId()).isEqualTo(host.getSpanId());
        assertThat(turn.getAttributes().get(SpanNames.STREAMING)).isTrue();
        SpanData access = named(spans, "parley.stage AccessStage");
        assertThat(access.getParentSpanId()).isEqualTo(turn.getSpanId());
        assertThat(ancestors(spans, named(spans, "chat " + MODEL)))
                .startsWith("parley.stage ProviderCallStage").endsWith(ParleyTracing.TURN_SPAN, "host.request");
        assertThat(turn.getEvents()).extracting(EventData::getName).containsSubsequence(
                "parley.stream.lock_acquired", "parley.first_delta", "parley.stream.lock_released");
        assertThat(spans).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(host.getTraceId()));
        assertThat(deltas).isNotEmpty();
        assertNowhere(spans, "zebra");
    }

    @Test
    void contentReachesTheTurnSpanOnlyWhenTheHostEnablesIt() {
        ParleyTracing off = ParleyTracing.builder(otel).build();
        Conversation quiet = conversation(off, model(),
                p -> p.insert(PromptPipeline.Position.BEFORE_COMMIT, off.contentStage()));
        quiet.send(Prompt.text(PROMPT).build());
        assertNowhere(spans(), "zebra");
        engine.close();
        exporter.reset();

        ParleyTracing on = ParleyTracing.builder(otel).captureContent().build();
        Conversation told = conversation(on, model(),
                p -> p.insert(PromptPipeline.Position.BEFORE_COMMIT, on.contentStage()));
        told.send(Prompt.text(PROMPT + "\n\"quoted\"").build());

        SpanData turn = named(spans(), ParleyTracing.TURN_SPAN);
        assertThat(turn.getAttributes().get(SpanNames.GEN_AI_INPUT_MESSAGES)).isEqualTo(
                "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":"
                        + "\"What is the zebra's favourite number?\\n\\\"quoted\\\"\"}]}]");
        assertThat(turn.getAttributes().get(SpanNames.GEN_AI_OUTPUT_MESSAGES)).contains("\"The zebra likes 444.\"");
        assertThatThrownBy(() -> ParleyTracing.builder(otel).captureContent().captureContent())
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aReplayHasNoModelCallAndAFailureIsAnErrorWithItsCodeOnly() {
        Conversation c = conversation(ParleyTracing.builder(otel).build(), ScriptedModel.builder().replyWith(r -> {
            if (r.messages().get(r.messages().size() - 1).text().contains("fail")) {
                throw new IllegalStateException("upstream down with the zebra");
            }
            return REPLY;
        }).build(), p -> p);
        c.send(Prompt.text(PROMPT).id("m-1").build());
        exporter.reset();

        c.send(Prompt.text(PROMPT).id("m-1").build());
        List<SpanData> replay = spans();
        assertThat(named(replay, ParleyTracing.TURN_SPAN).getAttributes().get(SpanNames.REPLAYED)).isTrue();
        assertThat(names(replay)).doesNotContain("chat " + MODEL, ParleyTracing.COMMIT_SPAN);
        exporter.reset();

        assertThatThrownBy(() -> c.send(Prompt.text("zebra, fail").build()))
                .isInstanceOf(ModelUnavailableException.class);
        List<SpanData> failed = spans();
        SpanData turn = named(failed, ParleyTracing.TURN_SPAN);
        assertThat(turn.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(turn.getAttributes().get(ErrorAttributes.ERROR_TYPE)).isEqualTo("MODEL_UNAVAILABLE");
        assertThat(named(failed, "chat " + MODEL).getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertNowhere(failed, "zebra");
        assertNowhere(failed, "upstream");
    }
}
