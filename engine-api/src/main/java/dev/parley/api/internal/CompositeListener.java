package dev.parley.api.internal;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.spi.EngineListener;

import java.util.ArrayList;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * Several listeners of one turn as one: each event goes to every listener in order, and one that throws does not keep
 * it from the rest (the first exception is thrown on after all were told, later ones suppressed in it). Each event
 * is its own loop rather than one loop taking the event as a lambda: a single loop called with twenty lambdas is a
 * call site the JIT cannot inline. Thread safe as its listeners are.
 */
public final class CompositeListener implements EngineListener {
    /** In order; an array walked by index, so that each event is a plain loop the JIT inlines. */
    private final EngineListener[] listeners;
    /** A factory's failure for this turn, thrown on from {@link #turnStart} so that the engine logs it. */
    private @Nullable RuntimeException factoryFailure;

    private CompositeListener(List<EngineListener> listeners, @Nullable RuntimeException factoryFailure) {
        this.listeners = listeners.toArray(new EngineListener[0]);
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

    @Override
    public void turnStart(TurnContext turn) {
        RuntimeException failure = factoryFailure;
        factoryFailure = null;
        for (EngineListener l : listeners) {
            try {
                l.turnStart(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.turnEnd(turn, status, replayed);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void turnFailed(TurnContext turn, RuntimeException error) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.turnFailed(turn, error);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void stageStart(TurnContext turn, String stage) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.stageStart(turn, stage);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void stageEnd(TurnContext turn, String stage) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.stageEnd(turn, stage);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.stageFailed(turn, stage, error);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void modelCallStart(TurnContext turn, String model) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.modelCallStart(turn, model);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void firstDelta(TurnContext turn) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.firstDelta(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void modelCallEnd(TurnContext turn, Usage usage) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.modelCallEnd(turn, usage);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void modelCallFailed(TurnContext turn, RuntimeException error) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.modelCallFailed(turn, error);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.policyChecked(turn, outcomes);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void commitStart(TurnContext turn) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.commitStart(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void commitEnd(TurnContext turn) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.commitEnd(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void commitFailed(TurnContext turn, RuntimeException error) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.commitFailed(turn, error);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.turnCharged(turn, usage, credits);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void softLimitReached(TurnContext turn, String accountId) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.softLimitReached(turn, accountId);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void streamLockAcquired(TurnContext turn) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.streamLockAcquired(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void streamLockReleased(TurnContext turn) {
        RuntimeException failure = null;
        for (EngineListener l : listeners) {
            try {
                l.streamLockReleased(turn);
            } catch (RuntimeException e) {
                failure = first(failure, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "CompositeListener" + java.util.Arrays.toString(listeners);
    }
}
