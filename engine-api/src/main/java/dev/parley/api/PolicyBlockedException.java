package dev.parley.api;

import dev.parley.api.policy.PolicyPhase;

import java.util.Objects;

/**
 * A policy refused the prompt or the reply: a rule whose action is {@link dev.parley.api.policy.PolicyAction#BLOCK}
 * found something, or a fail-closed rule could not give an answer. The message names the rule and the phase,
 * never the text that was found.
 */
public class PolicyBlockedException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String policyName;
    private final PolicyPhase phase;
    private final boolean failClosed;

    /**
     * A refusal by the rule {@code ruleId} in {@code phase}.
     *
     * @param failClosed true when the rule could not give an answer and blocks because it is fail-closed
     */
    public PolicyBlockedException(String ruleId, PolicyPhase phase, boolean failClosed) {
        super(ErrorCode.POLICY_BLOCKED, (failClosed
                ? "blocked because policy " + Objects.requireNonNull(ruleId, "ruleId")
                + " could not be evaluated and is fail-closed, at "
                : "blocked by policy " + Objects.requireNonNull(ruleId, "ruleId") + " at ")
                + Objects.requireNonNull(phase, "phase"));
        this.policyName = ruleId;
        this.phase = phase;
        this.failClosed = failClosed;
    }

    /** A refusal by a host's own code, outside a configured rule: {@code reason} must not quote user text. */
    public PolicyBlockedException(String policyName, String reason) {
        super(ErrorCode.POLICY_BLOCKED, "blocked by policy " + Objects.requireNonNull(policyName, "policyName") + ": "
                + reason);
        this.policyName = policyName;
        this.phase = PolicyPhase.PRE;
        this.failClosed = false;
    }

    /** The id of the rule that refused. */
    public String policyName() {
        return policyName;
    }

    /** The phase in which it refused. */
    public PolicyPhase phase() {
        return phase;
    }

    /** Whether the rule blocked because it could not be evaluated, not because it found something. */
    public boolean failClosed() {
        return failClosed;
    }
}
