package dev.parley.api.policy;

import dev.parley.api.PolicyBlockedException;

import java.util.Objects;

/**
 * Which rule blocked a turn, in which phase, and whether because it found something or because it could not
 * answer and is fail-closed: what a store keeps with a blocked turn's message id, so that a replay of the id is
 * refused the same way without a model call. Immutable and thread safe.
 *
 * @param ruleId the rule that blocked
 * @param phase the phase it blocked in
 * @param failClosed true when the rule could not be evaluated and blocks because it is fail-closed
 */
public record PolicyBlock(String ruleId, PolicyPhase phase, boolean failClosed) {

    public PolicyBlock {
        PolicyRule.checkId("ruleId", ruleId);
        Objects.requireNonNull(phase, "phase");
    }

    /** The exception a caller gets for this block. */
    public PolicyBlockedException toException() {
        return new PolicyBlockedException(ruleId, phase, failClosed);
    }
}
