package dev.parley.opentelemetry;

import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;

import java.util.Objects;

/**
 * Traces of one or more engines, as the {@link EngineListener.Factory} they are given:
 *
 * <pre>{@code
 * ParleyTracing tracing = ParleyTracing.builder(openTelemetry).build();
 * ConversationEngine engine = ConversationEngine.builder()
 *         .eventListenerFactory(tracing)
 *         ...
 *         .build();
 * }</pre>
 *
 * <p>Each turn is a span {@value #TURN_SPAN}, a child of the context current where {@code send} or {@code stream}
 * is called, with {@code gen_ai.operation.name = chat}, {@code gen_ai.request.model}, {@code gen_ai.conversation.id},
 * {@code gen_ai.usage.input_tokens} and {@code gen_ai.usage.output_tokens} (the settled usage of a committed turn),
 * and Parley's own {@code parley.*} attributes: conversation, workspace and message ids, {@code parley.streaming},
 * {@code parley.replayed}, {@code parley.outcome} (the reply's status or the failure's error code),
 * {@code parley.policy.outcome} ({@code passed}, {@code found}, {@code blocked} or {@code not_evaluated}) and
 * {@code parley.policy.findings}, {@code parley.credits.metered}, {@code parley.credits.used} and
 * {@code parley.credits.account}. A failed turn has status ERROR and {@code error.type}, never the exception's
 * message. Under it, a span {@code parley.stage <name>} per stage, nested as the stages are; under the provider
 * stage, the model call {@code chat <model>} (kind CLIENT, with the usage the provider reported); under the persist
 * stage, {@value #COMMIT_SPAN}. Events on the turn span: the first delta of a stream, the stream lock taken and given
 * up, each policy rule that found something, a soft credit limit reached.
 *
 * <p>A stream's spans are made on its stream thread, each a child of its turn's span through the context the turn
 * took on the caller's thread. No span is made current: a turn's spans are linked by their parents, so that none can
 * stay behind on a host's thread.
 *
 * <p>Content: prompt and reply text reach no span unless the host enables it with {@link Builder#captureContent()}
 * and puts {@link #contentStage()} in the pipeline at
 * {@link dev.parley.api.PromptPipeline.Position#BEFORE_COMMIT}; the turn span then carries
 * {@code gen_ai.input.messages} (the prompt as the policies left it) and {@code gen_ai.output.messages} (the reply as
 * stored), as JSON.
 *
 * <p>Thread safe: one instance serves any number of turns and engines at once.
 */
public final class ParleyTracing implements EngineListener.Factory {
    /** The instrumentation scope of Parley's spans. */
    public static final String INSTRUMENTATION_NAME = "dev.parley";
    /** The name of a turn's span. */
    public static final String TURN_SPAN = "parley.turn";
    /** The name of a turn's commit span. */
    public static final String COMMIT_SPAN = "parley.commit";

    private final Tracer tracer;
    private final boolean captureContent;

    private ParleyTracing(Builder b) {
        this.tracer = b.openTelemetry.getTracer(INSTRUMENTATION_NAME);
        this.captureContent = b.captureContent;
    }

    /** A builder making spans with {@code openTelemetry}'s tracer provider. */
    public static Builder builder(OpenTelemetry openTelemetry) {
        return new Builder(Objects.requireNonNull(openTelemetry, "openTelemetry"));
    }

    /** The listener of one turn, which holds its spans. */
    @Override
    public EngineListener create(EngineListener.TurnContext turn) {
        return new TurnSpans(tracer, turn, this);
    }

    /** Whether prompt and reply text may reach the spans. */
    public boolean capturesContent() {
        return captureContent;
    }

    /**
     * The stage that puts a turn's prompt and reply on its span, for
     * {@link dev.parley.api.PromptPipeline.Position#BEFORE_COMMIT}; it only passes the turn on unless content
     * capture is enabled. Stateless and thread safe.
     */
    public PromptStage contentStage() {
        return new PromptStage() {
            @Override
            public TurnResult intercept(Chain chain) {
                Turn turn = chain.turn();
                TurnResult result = chain.proceed(turn);
                if (captureContent) {
                    TurnSpans spans = TurnSpans.running(ParleyTracing.this);
                    if (spans != null) {
                        spans.content(result.turn().prompt().text(), result.text());
                    }
                }
                return result;
            }

            @Override
            public String name() {
                return "TracingContentStage";
            }
        };
    }

    @Override
    public String toString() {
        return "ParleyTracing[" + (captureContent ? "with content]" : "no content]");
    }

    /** Configures {@link ParleyTracing}; each option may be set once. Not thread safe: build on one thread. */
    public static final class Builder {
        private final OpenTelemetry openTelemetry;
        private boolean captureContent;

        private Builder(OpenTelemetry openTelemetry) {
            this.openTelemetry = openTelemetry;
        }

        /**
         * Lets prompt and reply text reach the turn spans, through {@link #contentStage()}. Off by default: the
         * text is the users', and a trace backend is seldom where it should be kept.
         *
         * @throws IllegalStateException when already set
         */
        public Builder captureContent() {
            if (captureContent) {
                throw new IllegalStateException("captureContent was already set");
            }
            captureContent = true;
            return this;
        }

        public ParleyTracing build() {
            return new ParleyTracing(this);
        }
    }
}
