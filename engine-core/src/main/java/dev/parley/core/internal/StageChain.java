package dev.parley.core.internal;

import dev.parley.api.ParleyException;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;

import java.util.List;
import java.util.Objects;

/**
 * The chain handed to stage {@code index}: its {@link #proceed} runs stage {@code index + 1} with a new chain.
 * Enforces the stage contract and names the stage that breaks it.
 */
public final class StageChain implements PromptStage.Chain {
    private final List<PromptStage> stages;
    /** Stages at or after this index are inside the provider boundary and may proceed more than once. */
    private final int boundary;
    private final int index;
    private final Turn turn;
    private final EngineServices services;
    private final EngineListener listener;
    /** The turn as the listener knows it; null when there is no listener. */
    private final EngineListener.TurnContext context;
    private int calls;
    /** Whether a proceed of this chain is running: a stage may proceed again, not twice at once. */
    private boolean proceeding;

    private StageChain(List<PromptStage> stages, int boundary, int index, Turn turn, EngineServices services,
                       EngineListener listener, EngineListener.TurnContext context) {
        this.stages = stages;
        this.boundary = boundary;
        this.index = index;
        this.turn = turn;
        this.services = services;
        this.listener = listener;
        this.context = context;
    }

    /** Runs the whole pipeline on a turn, with no stage inside a provider boundary. */
    public static TurnResult run(List<PromptStage> stages, Turn turn, EngineServices services) {
        return run(stages, stages.size(), turn, services);
    }

    /**
     * Runs the whole pipeline on a turn; the stages from {@code boundary} on are inside the provider boundary and
     * may proceed more than once.
     */
    public static TurnResult run(List<PromptStage> stages, int boundary, Turn turn, EngineServices services) {
        if (stages.isEmpty()) {
            throw new IllegalStateException("the pipeline has no stages");
        }
        EngineListener listener = services.listener();
        return invoke(stages, boundary, 0, turn, services, listener,
                listener == EngineListener.NONE ? null : turn.context());
    }

    @Override
    public Turn turn() {
        return turn;
    }

    @Override
    public EngineServices services() {
        return services;
    }

    @Override
    public TurnResult proceed(Turn next) {
        PromptStage caller = stages.get(index);
        if (next == null) {
            throw new ContractViolation("stage " + caller.name() + " called proceed(null)");
        }
        if (proceeding) {
            throw new ContractViolation("stage " + caller.name() + " called proceed() while its last proceed() ran");
        }
        if (++calls > 1) {
            if (index < boundary) {
                throw new ContractViolation("stage " + caller.name() + " called proceed() more than once; only a stage "
                        + "inside the provider boundary (Position.BEFORE_MODEL_CALL) may");
            }
            if (turn.stream() instanceof StreamRun run && run.deliveredAny()) {
                throw new ContractViolation("stage " + caller.name() + " called proceed() again after the stream "
                        + "delivered text to the caller");
            }
            if (turn.stream() instanceof StreamRun run) {
                run.restart();
            }
        }
        if (index + 1 >= stages.size()) {
            throw new ContractViolation("stage " + caller.name()
                    + " called proceed() but is the last stage: the last stage must answer the turn");
        }
        // Like OkHttp's "must retain the same host and port": a stage may rewrite the turn, not retarget it.
        if (!next.conversation().id().equals(turn.conversation().id())) {
            throw new ContractViolation("stage " + caller.name() + " changed the turn's conversation on proceed()");
        }
        if (!next.caller().equals(turn.caller())) {
            throw new ContractViolation("stage " + caller.name() + " changed the turn's caller on proceed()");
        }
        if (!next.promptId().equals(turn.promptId())) {
            throw new ContractViolation("stage " + caller.name() + " changed the turn's message id on proceed()");
        }
        proceeding = true;
        try {
            return invoke(stages, boundary, index + 1, next, services, listener, context);
        } finally {
            proceeding = false;
        }
    }

    private static TurnResult invoke(List<PromptStage> stages, int boundary, int i, Turn turn,
                                     EngineServices services, EngineListener listener,
                                     EngineListener.TurnContext context) {
        PromptStage stage = stages.get(i);
        // A streamed turn's hooks are added by the stage running at the time; their failures name it.
        StreamRun run = turn.stream() instanceof StreamRun r ? r : null;
        String outer = run == null ? null : run.enterStage(stage.name());
        if (context != null) {
            listener.stageStart(context, stage.name());
        }
        TurnResult result;
        try {
            result = stage.intercept(new StageChain(stages, boundary, i, turn, services, listener, context));
            if (result == null) {
                throw new ContractViolation("stage " + stage.name() + " returned null");
            }
        } catch (ParleyException | ContractViolation e) {
            if (context != null) {
                listener.stageFailed(context, stage.name(), e);
            }
            throw e;
        } catch (RuntimeException e) {
            ContractViolation violation = new ContractViolation("stage " + stage.name() + " failed: " + e, e);
            if (context != null) {
                listener.stageFailed(context, stage.name(), violation);
            }
            throw violation;
        } finally {
            if (run != null) {
                run.leaveStage(outer);
            }
        }
        if (context != null) {
            listener.stageEnd(context, stage.name());
        }
        return Objects.requireNonNull(result);
    }

    /** A stage broke the pipeline contract, or failed with an exception that is not a ParleyException. */
    static final class ContractViolation extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        ContractViolation(String message) {
            super(message);
        }

        ContractViolation(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
