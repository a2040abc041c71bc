package dev.parley.micrometer;

import dev.parley.api.Credits;
import dev.parley.api.ErrorCode;
import dev.parley.api.MessageStatus;
import dev.parley.api.ParleyException;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.spi.EngineListener;
import io.micrometer.observation.Observation;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;

/**
 * The metrics of one turn: its observations and what it counts. The engine tells it one event at a time (events of a
 * turn never overlap); its fields are handed from thread to thread with the turn, and the one event that arrives on
 * another thread, {@link #firstDelta}, reads only final fields. Thread safe in that sense.
 */
final class TurnMetrics implements EngineListener {
    /** Refusals, as the {@code reason} of {@value ParleyMetrics#REFUSALS}. */
    private static final Set<ErrorCode> REFUSALS = EnumSet.of(ErrorCode.BUDGET_EXCEEDED, ErrorCode.RATE_LIMITED,
            ErrorCode.POLICY_BLOCKED, ErrorCode.CONVERSATION_LOCKED);

    private final ParleyMetrics metrics;
    private final TurnContext turn;
    /** The turn's own tags: model, and workspace when asked for. */
    private final String[] tags;
    private final long startNanos;
    /** The turn's observation, on the host's registry; null when this object times the turn itself. */
    private final @Nullable Observation observation;
    /** Open stage observations, innermost first (on the host's registry). */
    private final Deque<Observation> stages = new ArrayDeque<>();
    private @Nullable Observation modelCall;
    /** Start times of the open stages, innermost last, and of the model call (when timed directly). */
    private long[] stageStarts = new long[12];
    private int depth;
    private long modelCallStart;

    TurnMetrics(ParleyMetrics metrics, TurnContext turn) {
        this.metrics = metrics;
        this.turn = turn;
        this.tags = metrics.tagWorkspace()
                ? new String[]{"model", turn.model(), "workspace", turn.workspaceId()}
                : new String[]{"model", turn.model()};
        this.startNanos = System.nanoTime();
        this.observation = metrics.observations() == null ? null : observe(ParleyMetrics.TURN, null)
                .lowCardinalityKeyValue("streaming", Boolean.toString(turn.streaming()))
                .highCardinalityKeyValue("parley.conversation.id", turn.conversationId())
                .highCardinalityKeyValue("parley.message.id", turn.messageId());
    }

    private void time(String name, long since, String... more) {
        metrics.timer(name, with(more)).record(System.nanoTime() - since, TimeUnit.NANOSECONDS);
    }

    /** A new observation of this turn, with its tags; its parent the given one, else the registry's current. */
    private Observation observe(String name, @Nullable Observation parent) {
        Observation o = Observation.createNotStarted(name, java.util.Objects.requireNonNull(metrics.observations()));
        if (parent != null) {
            o.parentObservation(parent);
        }
        for (int i = 0; i < tags.length; i += 2) {
            o.lowCardinalityKeyValue(tags[i], tags[i + 1]);
        }
        return o;
    }

    private String[] with(String... more) {
        String[] all = new String[tags.length + more.length];
        System.arraycopy(tags, 0, all, 0, tags.length);
        System.arraycopy(more, 0, all, tags.length, more.length);
        return all;
    }

    private static String outcome(RuntimeException error) {
        return error instanceof ParleyException p ? p.code().name() : "INTERNAL";
    }

    @Override
    public void turnStart(TurnContext turn) {
        if (observation != null) {
            observation.start();
        }
    }

    @Override
    public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
        String outcome = replayed ? "REPLAYED" : status.name();
        if (replayed) {
            metrics.counter(ParleyMetrics.REPLAYS, tags).increment();
        }
        end(outcome, null);
    }

    @Override
    public void turnFailed(TurnContext turn, RuntimeException error) {
        String outcome = outcome(error);
        if (error instanceof ParleyException p && REFUSALS.contains(p.code())) {
            metrics.counter(ParleyMetrics.REFUSALS, with("reason", outcome)).increment();
        }
        end(outcome, error);
    }

    private void end(String outcome, @Nullable RuntimeException error) {
        metrics.counter(ParleyMetrics.TURNS, with("outcome", outcome, "streaming",
                Boolean.toString(turn.streaming()))).increment();
        Observation o = observation;
        if (o == null) {
            time(ParleyMetrics.TURN, startNanos, "outcome", outcome, "streaming", Boolean.toString(turn.streaming()));
            return;
        }
        o.lowCardinalityKeyValue("outcome", outcome);
        if (error != null) {
            o.error(error);
        }
        o.stop();
    }

    @Override
    public void stageStart(TurnContext turn, String stage) {
        if (observation == null) {
            if (depth == stageStarts.length) {
                stageStarts = java.util.Arrays.copyOf(stageStarts, depth * 2);
            }
            stageStarts[depth++] = System.nanoTime();
            return;
        }
        Observation parent = stages.isEmpty() ? observation : stages.peek();
        stages.push(observe(ParleyMetrics.STAGE, parent).lowCardinalityKeyValue("stage", stage)
                .contextualName("parley.stage " + stage).start());
    }

    @Override
    public void stageEnd(TurnContext turn, String stage) {
        if (observation == null) {
            endStage(stage);
            return;
        }
        Observation o = stages.poll();
        if (o != null) {
            o.stop();
        }
    }

    @Override
    public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
        if (observation == null) {
            endStage(stage);
            return;
        }
        Observation o = stages.poll();
        if (o != null) {
            o.error(error);
            o.stop();
        }
    }

    private void endStage(String stage) {
        if (depth > 0) {
            time(ParleyMetrics.STAGE, stageStarts[--depth], "stage", stage);
        }
    }

    @Override
    public void modelCallStart(TurnContext turn, String model) {
        if (observation == null) {
            modelCallStart = System.nanoTime();
            return;
        }
        Observation parent = stages.isEmpty() ? observation : stages.peek();
        modelCall = observe(ParleyMetrics.MODEL_CALL, parent).start();
    }

    @Override
    public void firstDelta(TurnContext turn) {
        metrics.timer(ParleyMetrics.FIRST_DELTA, tags)
                .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void modelCallEnd(TurnContext turn, Usage usage) {
        endModelCall("OK", null);
    }

    @Override
    public void modelCallFailed(TurnContext turn, RuntimeException error) {
        endModelCall(outcome(error), error);
    }

    private void endModelCall(String outcome, @Nullable RuntimeException error) {
        if (observation == null) {
            time(ParleyMetrics.MODEL_CALL, modelCallStart, "outcome", outcome);
            return;
        }
        Observation o = modelCall;
        modelCall = null;
        if (o != null) {
            o.lowCardinalityKeyValue("outcome", outcome);
            if (error != null) {
                o.error(error);
            }
            o.stop();
        }
    }

    @Override
    public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
        for (PolicyOutcome o : outcomes) {
            if (o.status() == PolicyOutcome.Status.FOUND) {
                metrics.counter(ParleyMetrics.POLICY_FINDINGS, with("policy", o.ruleId(), "action", o.action().name(),
                        "phase", o.phase().name())).increment(o.findings());
            } else if (o.status() == PolicyOutcome.Status.NOT_EVALUATED) {
                metrics.counter(ParleyMetrics.POLICY_UNEVALUATED, with("policy", o.ruleId(), "phase",
                        o.phase().name())).increment();
            }
        }
    }

    @Override
    public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
        metrics.counter(ParleyMetrics.TOKENS, with("type", "input")).increment(usage.tokensIn());
        metrics.counter(ParleyMetrics.TOKENS, with("type", "output")).increment(usage.tokensOut());
        if (credits.metered()) {
            metrics.counter(ParleyMetrics.CREDITS, tags).increment(credits.used().doubleValue());
        }
    }

    @Override
    public void streamLockAcquired(TurnContext turn) {
        metrics.activeStreams().incrementAndGet();
    }

    @Override
    public void streamLockReleased(TurnContext turn) {
        metrics.activeStreams().decrementAndGet();
    }

    @Override
    public String toString() {
        return "TurnMetrics[" + turn.conversationId() + "/" + turn.messageId() + "]";
    }
}
