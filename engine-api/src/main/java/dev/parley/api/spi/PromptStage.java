package dev.parley.api.spi;

import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;

/**
 * One stage of the {@link dev.parley.api.PromptPipeline}. A stage reads {@link Chain#turn()}, may rewrite it,
 * and either answers itself or calls {@link Chain#proceed} and returns (possibly changed) what the rest of the
 * chain returned.
 *
 * <p>The contract, enforced by the engine: a stage returns a non-null result, lets only
 * {@link dev.parley.api.ParleyException}s escape on purpose, and calls {@code proceed} at most once, except a
 * stage inside the provider boundary ({@link dev.parley.api.PromptPipeline.Position#BEFORE_MODEL_CALL}), which
 * may call it again after the last call returned or failed, for a retry or a fallback to another model
 * ({@link Turn#withModel}), as long as no streamed text has reached the caller. On {@code proceed} a stage may
 * rewrite the turn but not change its conversation, caller or message id. Breaking the contract fails the turn
 * with an {@link IllegalStateException} that names the stage. Stages are shared by all turns and must be
 * thread safe.
 */
@FunctionalInterface
public interface PromptStage {

    /** Handles the turn of {@code chain}. */
    TurnResult intercept(Chain chain);

    /** The name used in errors and logs; the simple class name by default. */
    default String name() {
        return getClass().getSimpleName();
    }

    /** The turn and the rest of the pipeline, as one stage sees them. A new chain object per stage. */
    interface Chain {

        /** The turn as it reaches this stage. */
        Turn turn();

        /**
         * Runs the rest of the pipeline on {@code turn}: at most once per stage, or again after the last call
         * ended for a stage inside the provider boundary.
         */
        TurnResult proceed(Turn turn);

        /** What the engine offers stages: store, models, clock, ids, token counters, events. */
        EngineServices services();
    }
}
