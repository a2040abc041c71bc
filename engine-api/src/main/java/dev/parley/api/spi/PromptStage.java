package dev.parley.api.spi;

/**
 * One stage of the {@link dev.parley.api.PromptPipeline}. A stage reads {@link Chain#turn()}, may rewrite it,
 * and either answers itself or calls {@link Chain#proceed} exactly once and returns (possibly changed) what the
 * rest of the chain returned.
 *
 * <p>The contract, enforced by the engine: a stage returns a non-null result, calls {@code proceed} at most
 * once, and lets only {@link dev.parley.api.ParleyException}s escape on purpose; breaking it fails the turn
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

        /** Runs the rest of the pipeline on {@code turn}; at most once per stage. */
        TurnResult proceed(Turn turn);

        /** What the engine offers stages: store, models, clock, ids, token counters, events. */
        EngineServices services();
    }
}
