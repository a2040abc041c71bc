package dev.parley.opentelemetry;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.ParleyException;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.spi.EngineListener;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The spans of one turn. The engine tells it one event at a time (events of a turn never overlap) and hands it from
 * thread to thread with the turn; {@link #firstDelta}, which may arrive on a provider's thread, only adds an event to
 * the turn span, which is thread safe. Thread safe in that sense.
 */
final class TurnSpans implements EngineListener {
    /** The turn whose stage runs on this thread, for {@link ParleyTracing#contentStage()}. */
    private static final ThreadLocal<TurnSpans> RUNNING = new ThreadLocal<>();

    private final Tracer tracer;
    private final TurnContext turn;
    private final ParleyTracing owner;
    private @Nullable Span span;
    private Context context = Context.root();
    /** Open stage spans and their contexts, innermost first, and what ran on the thread before each. */
    private final Deque<Context> stages = new ArrayDeque<>();
    private final Deque<Span> stageSpans = new ArrayDeque<>();
    private final List<@Nullable TurnSpans> outer = new ArrayList<>();
    private @Nullable Span modelCall;
    private @Nullable Span commit;

    TurnSpans(Tracer tracer, TurnContext turn, ParleyTracing owner) {
        this.tracer = tracer;
        this.turn = turn;
        this.owner = owner;
    }

    /** The turn of {@code owner} whose stage runs on this thread, if any. */
    static @Nullable TurnSpans running(ParleyTracing owner) {
        TurnSpans t = RUNNING.get();
        return t != null && t.owner == owner ? t : null;
    }

    private static String code(RuntimeException error) {
        return error instanceof ParleyException p ? p.code().name() : error.getClass().getName();
    }

    private static void fail(Span s, RuntimeException error) {
        String type = code(error);
        s.setAttribute(SpanNames.ERROR_TYPE, type);
        s.setStatus(StatusCode.ERROR, type);
    }

    private Context current() {
        Context c = stages.peek();
        return c != null ? c : context;
    }

    @Override
    public void turnStart(TurnContext turn) {
        Context parent = Context.current();
        Span s = tracer.spanBuilder(ParleyTracing.TURN_SPAN).setParent(parent).setSpanKind(SpanKind.INTERNAL)
                .setAttribute(SpanNames.GEN_AI_OPERATION_NAME, SpanNames.CHAT)
                .setAttribute(SpanNames.GEN_AI_REQUEST_MODEL, turn.model())
                .setAttribute(SpanNames.GEN_AI_CONVERSATION_ID, turn.conversationId())
                .setAttribute(SpanNames.CONVERSATION_ID, turn.conversationId())
                .setAttribute(SpanNames.WORKSPACE_ID, turn.workspaceId())
                .setAttribute(SpanNames.MESSAGE_ID, turn.messageId())
                .setAttribute(SpanNames.STREAMING, turn.streaming())
                .startSpan();
        span = s;
        context = parent.with(s);
    }

    @Override
    public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
        Span s = span;
        if (s != null) {
            s.setAttribute(SpanNames.REPLAYED, replayed);
            s.setAttribute(SpanNames.OUTCOME, replayed ? "REPLAYED" : status.name());
            s.end();
        }
    }

    @Override
    public void turnFailed(TurnContext turn, RuntimeException error) {
        Span s = span;
        if (s != null) {
            s.setAttribute(SpanNames.REPLAYED, false);
            s.setAttribute(SpanNames.OUTCOME, code(error));
            fail(s, error);
            s.end();
        }
    }

    /** The span name of each stage name seen: a turn's stages are named the same on every turn. */
    private static final java.util.concurrent.ConcurrentMap<String, String> STAGE_SPAN_NAMES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static String stageSpanName(String stage) {
        String name = STAGE_SPAN_NAMES.get(stage);
        if (name == null) {
            name = "parley.stage " + stage;
            if (STAGE_SPAN_NAMES.size() < 1_000) { // stage names are a host's few; never grow without bound
                STAGE_SPAN_NAMES.putIfAbsent(stage, name);
            }
        }
        return name;
    }

    @Override
    public void stageStart(TurnContext turn, String stage) {
        Context parent = current();
        Span s = tracer.spanBuilder(stageSpanName(stage)).setParent(parent)
                .setAttribute(SpanNames.STAGE, stage).startSpan();
        stages.push(parent.with(s));
        stageSpans.push(s);
        if (owner.capturesContent()) {
            // Only the content stage asks which turn runs on this thread.
            outer.add(RUNNING.get());
            RUNNING.set(this);
        }
    }

    @Override
    public void stageEnd(TurnContext turn, String stage) {
        endStage(null);
    }

    @Override
    public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
        endStage(error);
    }

    private void endStage(@Nullable RuntimeException error) {
        Span s = stageSpans.poll();
        stages.poll();
        if (owner.capturesContent() && !outer.isEmpty()) {
            TurnSpans before = outer.remove(outer.size() - 1);
            if (before == null) {
                RUNNING.remove();
            } else {
                RUNNING.set(before);
            }
        }
        if (s != null) {
            if (error != null) {
                fail(s, error);
            }
            s.end();
        }
    }

    @Override
    public void modelCallStart(TurnContext turn, String model) {
        modelCall = tracer.spanBuilder(SpanNames.CHAT + " " + model).setParent(current()).setSpanKind(SpanKind.CLIENT)
                .setAttribute(SpanNames.GEN_AI_OPERATION_NAME, SpanNames.CHAT)
                .setAttribute(SpanNames.GEN_AI_REQUEST_MODEL, model)
                .setAttribute(SpanNames.GEN_AI_CONVERSATION_ID, turn.conversationId())
                .startSpan();
    }

    @Override
    public void firstDelta(TurnContext turn) {
        Span s = span;
        if (s != null) {
            s.addEvent("parley.first_delta");
        }
    }

    @Override
    public void modelCallEnd(TurnContext turn, Usage usage) {
        Span s = modelCall;
        modelCall = null;
        if (s != null) {
            if (!usage.equals(Usage.ZERO)) {
                s.setAttribute(SpanNames.GEN_AI_USAGE_INPUT_TOKENS, usage.tokensIn());
                s.setAttribute(SpanNames.GEN_AI_USAGE_OUTPUT_TOKENS, usage.tokensOut());
            }
            s.end();
        }
    }

    @Override
    public void modelCallFailed(TurnContext turn, RuntimeException error) {
        Span s = modelCall;
        modelCall = null;
        if (s != null) {
            fail(s, error);
            s.end();
        }
    }

    @Override
    public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
        Span s = span;
        if (s == null) {
            return;
        }
        String outcome = "passed";
        long findings = 0;
        for (PolicyOutcome o : outcomes) {
            findings += o.findings();
            if (o.blocked()) {
                outcome = "blocked";
            } else if (o.status() == PolicyOutcome.Status.FOUND && !outcome.equals("blocked")) {
                outcome = "found";
            } else if (o.status() == PolicyOutcome.Status.NOT_EVALUATED && outcome.equals("passed")) {
                outcome = "not_evaluated";
            }
            if (o.status() != PolicyOutcome.Status.PASSED) {
                s.addEvent("parley.policy", Attributes.builder()
                        .put(SpanNames.POLICY_RULE, o.ruleId())
                        .put(SpanNames.POLICY_ACTION, o.action().name())
                        .put(SpanNames.POLICY_PHASE, o.phase().name())
                        .put(SpanNames.POLICY_STATUS, o.status().name())
                        .put(SpanNames.POLICY_FINDINGS, (long) o.findings())
                        .build());
            }
        }
        s.setAttribute(SpanNames.POLICY_OUTCOME, outcome);
        s.setAttribute(SpanNames.POLICY_FINDINGS, findings);
    }

    @Override
    public void commitStart(TurnContext turn) {
        commit = tracer.spanBuilder(ParleyTracing.COMMIT_SPAN).setParent(current()).startSpan();
    }

    @Override
    public void commitEnd(TurnContext turn) {
        Span s = commit;
        commit = null;
        if (s != null) {
            s.end();
        }
    }

    @Override
    public void commitFailed(TurnContext turn, RuntimeException error) {
        Span s = commit;
        commit = null;
        if (s != null) {
            fail(s, error);
            s.end();
        }
    }

    @Override
    public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
        Span s = span;
        if (s != null) {
            s.setAttribute(SpanNames.GEN_AI_USAGE_INPUT_TOKENS, usage.tokensIn());
            s.setAttribute(SpanNames.GEN_AI_USAGE_OUTPUT_TOKENS, usage.tokensOut());
            s.setAttribute(SpanNames.CREDITS_METERED, credits.metered());
            if (credits.metered()) {
                s.setAttribute(SpanNames.CREDITS_USED, credits.used().doubleValue());
                credits.account().ifPresent(a -> s.setAttribute(SpanNames.CREDITS_ACCOUNT, a));
            }
        }
    }

    @Override
    public void softLimitReached(TurnContext turn, String accountId) {
        Span s = span;
        if (s != null) {
            s.addEvent("parley.credits.soft_limit", Attributes.of(SpanNames.CREDITS_ACCOUNT, accountId));
        }
    }

    @Override
    public void streamLockAcquired(TurnContext turn) {
        Span s = span;
        if (s != null) {
            s.addEvent("parley.stream.lock_acquired");
        }
    }

    @Override
    public void streamLockReleased(TurnContext turn) {
        Span s = span;
        if (s != null) {
            s.addEvent("parley.stream.lock_released");
        }
    }

    /** Puts the turn's prompt and reply on its span, as the convention's JSON messages. */
    void content(String prompt, String reply) {
        Span s = span;
        if (s != null) {
            s.setAttribute(SpanNames.GEN_AI_INPUT_MESSAGES, "[{\"role\":\"user\",\"parts\":[{\"type\":\"text\","
                    + "\"content\":" + dev.parley.api.internal.Json.quote(new StringBuilder(), prompt) + "}]}]");
            s.setAttribute(SpanNames.GEN_AI_OUTPUT_MESSAGES, "[{\"role\":\"assistant\",\"parts\":[{\"type\":\"text\","
                    + "\"content\":" + dev.parley.api.internal.Json.quote(new StringBuilder(), reply) + "}]}]");
        }
    }

    @Override
    public String toString() {
        return "TurnSpans[" + turn.conversationId() + "/" + turn.messageId() + "]";
    }
}
