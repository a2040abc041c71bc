package dev.parley.api.policy;

import java.util.Objects;

/**
 * How one configured policy judged one phase of a turn: what a reply reports of governance. Holds no text.
 * Immutable and thread safe.
 *
 * @param ruleId the rule's id ({@link PolicyRule#id()})
 * @param phase the phase checked
 * @param action the rule's action
 * @param status the result of the check
 * @param findings how many findings the check had (0 unless {@link Status#FOUND})
 * @param failMode the rule's fail mode, which decides what {@link Status#NOT_EVALUATED} led to
 */
public record PolicyOutcome(String ruleId, PolicyPhase phase, PolicyAction action, Status status, int findings,
                            FailMode failMode) {

    /** The result of one policy check. */
    public enum Status {
        /** The policy found nothing. */
        PASSED,
        /** The policy found something and its action was taken. */
        FOUND,
        /** The policy threw or ran past its time budget; its fail mode decided. */
        NOT_EVALUATED
    }

    public PolicyOutcome {
        PolicyRule.checkId("ruleId", ruleId);
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(failMode, "failMode");
        if (findings < 0 || (status == Status.FOUND) != (findings > 0)) {
            throw new IllegalArgumentException("findings must be positive exactly when the status is FOUND: "
                    + status + ", " + findings);
        }
    }

    /** Whether this outcome stopped the turn: a finding of a BLOCK rule, or no answer from a fail-closed rule. */
    public boolean blocked() {
        return status == Status.FOUND && action == PolicyAction.BLOCK
                || status == Status.NOT_EVALUATED && failMode == FailMode.CLOSED;
    }
}
