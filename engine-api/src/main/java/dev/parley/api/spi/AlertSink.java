package dev.parley.api.spi;

import dev.parley.api.policy.Violation;

/**
 * Receives the violations of rules whose action is {@link dev.parley.api.policy.PolicyAction#ALERT}: each once,
 * after the turn that found it was stored (a turn that is not stored raises no alert). Called on the thread that
 * ran the turn; an exception thrown here is logged and otherwise ignored. Must be thread safe.
 */
@FunctionalInterface
public interface AlertSink {

    /** A sink that ignores every alert. */
    AlertSink NONE = violation -> { };

    void alert(Violation violation);
}
