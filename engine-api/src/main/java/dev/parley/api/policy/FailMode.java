package dev.parley.api.policy;

/** What a turn does when a policy could not give an answer (it threw, or ran past its time budget). */
public enum FailMode {
    /** The check is recorded as {@link PolicyOutcome.Status#NOT_EVALUATED} and the turn goes on. */
    OPEN,
    /**
     * The check is recorded as {@link PolicyOutcome.Status#NOT_EVALUATED} and the turn is blocked, with a
     * {@link dev.parley.api.PolicyBlockedException} that says so ({@link dev.parley.api.PolicyBlockedException#failClosed()}).
     */
    CLOSED
}
