package dev.parley.api;

import java.util.Objects;

/** A policy whose action is block refused the prompt or the reply. */
public class PolicyBlockedException extends ParleyException {
    private static final long serialVersionUID = 1L;

    private final String policyName;

    public PolicyBlockedException(String policyName, String reason) {
        super(ErrorCode.POLICY_BLOCKED, "blocked by policy " + Objects.requireNonNull(policyName, "policyName") + ": " + reason);
        this.policyName = policyName;
    }

    /** The name of the policy that refused. */
    public String policyName() {
        return policyName;
    }
}
