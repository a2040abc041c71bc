package dev.parley.core.internal;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.spi.EngineListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * A host's listener as the engine calls it: an exception it throws is logged (the first at WARN, later ones at
 * DEBUG) and ignored, so a listener can neither fail nor change a turn. Thread safe when the host's listener is.
 */
final class SafeListener implements EngineListener {
    private static final Logger LOG = LoggerFactory.getLogger(SafeListener.class);
    private static volatile boolean warned;

    private final EngineListener host;

    private SafeListener(EngineListener host) {
        this.host = host;
    }

    /** The turn's listener from the host's factory, guarded; {@link EngineListener#NONE} stays as it is. */
    static EngineListener forTurn(EngineListener.Factory factory, TurnContext turn) {
        if (factory == null) {
            return NONE;
        }
        EngineListener created;
        try {
            created = factory.create(turn);
        } catch (RuntimeException e) {
            failed("its factory", e);
            return NONE;
        }
        return created == null || created == NONE ? NONE : new SafeListener(created);
    }

    private static void failed(String event, RuntimeException e) {
        if (!warned) {
            warned = true;
            LOG.warn("An engine listener failed on {} and was ignored (later failures are logged at DEBUG)", event, e);
        } else {
            LOG.debug("An engine listener failed on {} and was ignored", event, e);
        }
    }

    @Override
    public void turnStart(TurnContext turn) {
        try {
            host.turnStart(turn);
        } catch (RuntimeException e) {
            failed("turnStart", e);
        }
    }

    @Override
    public void turnEnd(TurnContext turn, MessageStatus status, boolean replayed) {
        try {
            host.turnEnd(turn, status, replayed);
        } catch (RuntimeException e) {
            failed("turnEnd", e);
        }
    }

    @Override
    public void turnFailed(TurnContext turn, RuntimeException error) {
        try {
            host.turnFailed(turn, error);
        } catch (RuntimeException e) {
            failed("turnFailed", e);
        }
    }

    @Override
    public void stageStart(TurnContext turn, String stage) {
        try {
            host.stageStart(turn, stage);
        } catch (RuntimeException e) {
            failed("stageStart", e);
        }
    }

    @Override
    public void stageEnd(TurnContext turn, String stage) {
        try {
            host.stageEnd(turn, stage);
        } catch (RuntimeException e) {
            failed("stageEnd", e);
        }
    }

    @Override
    public void stageFailed(TurnContext turn, String stage, RuntimeException error) {
        try {
            host.stageFailed(turn, stage, error);
        } catch (RuntimeException e) {
            failed("stageFailed", e);
        }
    }

    @Override
    public void modelCallStart(TurnContext turn, String model) {
        try {
            host.modelCallStart(turn, model);
        } catch (RuntimeException e) {
            failed("modelCallStart", e);
        }
    }

    @Override
    public void firstDelta(TurnContext turn) {
        try {
            host.firstDelta(turn);
        } catch (RuntimeException e) {
            failed("firstDelta", e);
        }
    }

    @Override
    public void modelCallEnd(TurnContext turn, Usage usage) {
        try {
            host.modelCallEnd(turn, usage);
        } catch (RuntimeException e) {
            failed("modelCallEnd", e);
        }
    }

    @Override
    public void modelCallFailed(TurnContext turn, RuntimeException error) {
        try {
            host.modelCallFailed(turn, error);
        } catch (RuntimeException e) {
            failed("modelCallFailed", e);
        }
    }

    @Override
    public void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
        try {
            host.policyChecked(turn, outcomes);
        } catch (RuntimeException e) {
            failed("policyChecked", e);
        }
    }

    @Override
    public void commitStart(TurnContext turn) {
        try {
            host.commitStart(turn);
        } catch (RuntimeException e) {
            failed("commitStart", e);
        }
    }

    @Override
    public void commitEnd(TurnContext turn) {
        try {
            host.commitEnd(turn);
        } catch (RuntimeException e) {
            failed("commitEnd", e);
        }
    }

    @Override
    public void commitFailed(TurnContext turn, RuntimeException error) {
        try {
            host.commitFailed(turn, error);
        } catch (RuntimeException e) {
            failed("commitFailed", e);
        }
    }

    @Override
    public void turnCharged(TurnContext turn, Usage usage, Credits credits) {
        try {
            host.turnCharged(turn, usage, credits);
        } catch (RuntimeException e) {
            failed("turnCharged", e);
        }
    }

    @Override
    public void streamLockAcquired(TurnContext turn) {
        try {
            host.streamLockAcquired(turn);
        } catch (RuntimeException e) {
            failed("streamLockAcquired", e);
        }
    }

    @Override
    public void softLimitReached(TurnContext turn, String accountId) {
        try {
            host.softLimitReached(turn, accountId);
        } catch (RuntimeException e) {
            failed("softLimitReached", e);
        }
    }

    @Override
    public void streamLockReleased(TurnContext turn) {
        try {
            host.streamLockReleased(turn);
        } catch (RuntimeException e) {
            failed("streamLockReleased", e);
        }
    }

    @Override
    public String toString() {
        return "SafeListener[" + host + "]";
    }
}
