package dev.parley.api.internal;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.spi.EngineListener;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import org.jspecify.annotations.Nullable;

/**
 * Several listeners of one turn as one: each event goes to every listener in order, and one that throws does not keep
 * it from the rest (the first exception is thrown on after all were told, later ones suppressed in it). Thread safe
 * as its listeners are.
 */
public final class CompositeListener implements EngineListener {
    private final List<EngineListener> listeners;
    /** A factory's failure for this turn, thrown on from {@link #turnStart} so that the engine logs it. */
    private @Nullable RuntimeException factoryFailure;

    private CompositeListener(List<EngineListener> listeners, @Nullable RuntimeException factoryFailure) {
        this.listeners = listeners;
        this.factoryFailure = factoryFailure;
    }

    /** The factory behind {@link EngineListener#factories}: one listener per factory and turn. Thread safe. */
    public static final class OfFactories implements Factory {
        private final List<Factory> factories;

        public OfFactories(List<Factory> factories) {
            this.factories = List.copyOf(factories);
        }

        @Override
        public EngineListener create(TurnContext turn) {
            List<EngineListener> created = new ArrayList<>(factories.size());
            RuntimeException failure = null;
            for (Factory f : factories) {
                try {
                    EngineListener l = f.create(turn);
                    if (l != null && l != NONE) {
                        created.add(l);
                    }
                } catch (RuntimeException e) {
                    failure = first(failure, e);
                }
            }
            if (created.isEmpty() && failure != null) {
                throw failure;
            }
            if (created.isEmpty()) {
                return NONE;
            }
            // The factories that worked keep their listeners; another's failure is thrown on from turnStart.
            return created.size() == 1 && failure == null ? created.get(0)
                    : new CompositeListener(List.copyOf(created), failure);
        }

        @Override
        public String toString() {
            return "EngineListener.factories" + factories;
        }
    }

    private static RuntimeException first(@Nullable RuntimeException failure, RuntimeException e) {
        if (failure == null) {
            return e;
        }
        if (failure != e) {
            failure.addSuppressed(e);
        }
        return failure;
    }

    private void each(Consumer<EngineListener> event) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                event.accept(l);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void turnStart(TurnContext turn) {
        RuntimeException failure = factoryFailure;
        factoryFailure = null;
        try {
            each(l -> l.turnStart(turn));
        } catch (RuntimeException e) {
            throw first(failure, e);
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
        each(l -> l.turnEnd(turn, status, replayed));
    }

    @Override
    public void turnFailed(TurnContext turn, RuntimeException error) {
        each(l -> l.turnFailed(turn, error));
    }

    @Override
    public void stageStart(TurnContext turn, String stage) {
        each(l -> l.stageStart(turn, stage));
    }

    @Override
    public void stageEnd(TurnContext turn, String stage) {
        each(l -> l.stageEnd(turn, stage));
    }

    @Override
    public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
        each(l -> l.stageFailed(turn, stage, error));
    }

    @Override
    public void modelCallStart(TurnContext turn, String model) {
        each(l -> l.modelCallStart(turn, model));
    }

    @Override
    public void firstDelta(TurnContext turn) {
        each(l -> l.firstDelta(turn));
    }

    @Override
    public void modelCallEnd(TurnContext turn, Usage usage) {
        each(l -> l.modelCallEnd(turn, usage));
    }

    @Override
    public void modelCallFailed(TurnContext turn, RuntimeException error) {
        each(l -> l.modelCallFailed(turn, error));
    }

    @Override
    public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
        each(l -> l.policyChecked(turn, outcomes));
    }

    @Override
    public void commitStart(TurnContext turn) {
        each(l -> l.commitStart(turn));
    }

    @Override
    public void commitEnd(TurnContext turn) {
        each(l -> l.commitEnd(turn));
    }

    @Override
    public void commitFailed(TurnContext turn, RuntimeException error) {
        each(l -> l.commitFailed(turn, error));
    }

    @Override
    public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
        each(l -> l.turnCharged(turn, usage, credits));
    }

    @Override
    public void softLimitReached(TurnContext turn, String accountId) {
        each(l -> l.softLimitReached(turn, accountId));
    }

    @Override
    public void streamLockAcquired(TurnContext turn) {
        each(l -> l.streamLockAcquired(turn));
    }

    @Override
    public void streamLockReleased(TurnContext turn) {
        each(l -> l.streamLockReleased(turn));
    }

    @Override
    public String toString() {
        return "CompositeListener" + listeners;
    }
}
