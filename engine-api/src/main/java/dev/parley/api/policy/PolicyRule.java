package dev.parley.api.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.spi.Policy;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * A {@link Policy} as configured for an engine: what its findings lead to ({@link PolicyAction}), the phases it
 * checks, what happens when it cannot answer ({@link FailMode}), how long a check may take, and where it
 * applies ({@link PolicyScope}). Immutable and thread safe.
 *
 * <pre>{@code
 * PolicyRule rule = PolicyRule.block(SecretsPolicy.standard())
 *     .phases(PolicyPhase.PRE, PolicyPhase.DURING, PolicyPhase.POST)
 *     .failMode(FailMode.CLOSED)
 *     .build();
 * }</pre>
 *
 * Every option is checked when it is set: a bad value is an {@link InvalidRequestException} naming it.
 */
public final class PolicyRule {
    /** The time budget of a check unless set: generous for a pattern scan, short for a judge model's answer. */
    public static final Duration DEFAULT_TIME_BUDGET = Duration.ofSeconds(2);
    /** The longest time budget a rule may have. */
    public static final Duration MAX_TIME_BUDGET = Duration.ofMinutes(2);

    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    private final String id;
    private final Policy policy;
    private final PolicyAction action;
    private final Set<PolicyPhase> phases;
    private final FailMode failMode;
    private final Duration timeBudget;
    private final PolicyScope scope;

    private PolicyRule(Builder b) {
        this.id = b.id;
        this.policy = b.policy;
        this.action = b.action;
        this.phases = Collections.unmodifiableSet(EnumSet.copyOf(b.phases));
        this.failMode = b.failMode;
        this.timeBudget = b.timeBudget;
        this.scope = b.scope;
    }

    /** A rule whose findings lead to {@code action}. */
    public static Builder of(Policy policy, PolicyAction action) {
        Builder b = new Builder(policy);
        if (action == null) {
            throw new InvalidRequestException("action", "is required");
        }
        b.action = action;
        return b;
    }

    /** A rule that records its findings. */
    public static Builder log(Policy policy) {
        return of(policy, PolicyAction.LOG);
    }

    /** A rule that records its findings and hands each to the alert sink once. */
    public static Builder alert(Policy policy) {
        return of(policy, PolicyAction.ALERT);
    }

    /** A rule that blocks a turn it finds anything in. */
    public static Builder block(Policy policy) {
        return of(policy, PolicyAction.BLOCK);
    }

    /** A rule that replaces what it finds with a placeholder. */
    public static Builder redact(Policy policy) {
        return of(policy, PolicyAction.REDACT);
    }

    /** The rule's id, recorded with each violation: the policy's id unless set. Unique within a {@link PolicySet}. */
    public String id() {
        return id;
    }

    public Policy policy() {
        return policy;
    }

    public PolicyAction action() {
        return action;
    }

    /** The phases the rule checks; never empty. */
    public Set<PolicyPhase> phases() {
        return phases;
    }

    /** Whether the rule checks in {@code phase}. */
    public boolean checks(PolicyPhase phase) {
        return phases.contains(phase);
    }

    public FailMode failMode() {
        return failMode;
    }

    /** How long one check may take before its answer is discarded as {@link PolicyOutcome.Status#NOT_EVALUATED}. */
    public Duration timeBudget() {
        return timeBudget;
    }

    public PolicyScope scope() {
        return scope;
    }

    @Override
    public String toString() {
        return "PolicyRule{id=" + id + ", action=" + action + ", phases=" + phases + ", failMode=" + failMode
                + ", scope=" + scope + "}";
    }

    /**
     * Checks a policy or rule id: 1 to 64 characters of lower-case letters, digits, '.', '_' and '-', starting with
     * a letter or digit.
     *
     * @throws IllegalArgumentException naming the field otherwise
     */
    static String checkId(String field, @Nullable String id) {
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException(field + " must be 1 to 64 characters of a-z, 0-9, '.', '_', '-': "
                    + (id == null ? "null" : "\"" + id + "\""));
        }
        return id;
    }

    /** A required option's value, or an {@link InvalidRequestException} naming it. */
    static <T> T required(String field, @Nullable T value) {
        if (value == null) {
            throw new InvalidRequestException(field, "is required");
        }
        return value;
    }

    /** The phases given, at least one and none null. */
    static EnumSet<PolicyPhase> phaseSet(PolicyPhase @Nullable ... checked) {
        if (checked == null || checked.length == 0) {
            throw new InvalidRequestException("phases", "must name at least one phase");
        }
        EnumSet<PolicyPhase> set = EnumSet.noneOf(PolicyPhase.class);
        for (PolicyPhase p : checked) {
            set.add(required("phases", p));
        }
        return set;
    }

    /** A time budget: more than 0, at most {@link #MAX_TIME_BUDGET}. */
    static Duration checkBudget(@Nullable Duration budget) {
        if (budget == null || budget.isNegative() || budget.isZero() || budget.compareTo(MAX_TIME_BUDGET) > 0) {
            throw new InvalidRequestException("timeBudget", "must be more than 0 and at most " + MAX_TIME_BUDGET);
        }
        return budget;
    }

    /** Builds a rule; each option is checked when set. Not thread safe. */
    public static final class Builder {
        private final Policy policy;
        private String id;
        private PolicyAction action = PolicyAction.LOG;
        private EnumSet<PolicyPhase> phases = EnumSet.allOf(PolicyPhase.class);
        private FailMode failMode = FailMode.OPEN;
        private Duration timeBudget = DEFAULT_TIME_BUDGET;
        private PolicyScope scope = PolicyScope.everywhere();

        private Builder(Policy policy) {
            if (policy == null) {
                throw new InvalidRequestException("policy", "is required");
            }
            this.policy = policy;
            String policyId;
            try {
                policyId = checkId("policy.id", policy.id());
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("policy.id", e.getMessage());
            }
            this.id = policyId;
        }

        /** The rule's id, when one policy is configured twice (in two scopes, with two actions). */
        public Builder id(String ruleId) {
            try {
                this.id = checkId("id", ruleId);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("id", e.getMessage());
            }
            return this;
        }

        /** The phases the rule checks: all three unless set. */
        public Builder phases(PolicyPhase... checked) {
            this.phases = phaseSet(checked);
            return this;
        }

        /** What a check that cannot answer leads to: {@link FailMode#OPEN} unless set. */
        public Builder failMode(FailMode mode) {
            this.failMode = required("failMode", mode);
            return this;
        }

        /** How long one check may take: {@link #DEFAULT_TIME_BUDGET} unless set, at most {@link #MAX_TIME_BUDGET}. */
        public Builder timeBudget(Duration budget) {
            this.timeBudget = checkBudget(budget);
            return this;
        }

        /** Where the rule applies: {@link PolicyScope#everywhere()} unless set. */
        public Builder scope(PolicyScope where) {
            this.scope = required("scope", where);
            return this;
        }

        public PolicyRule build() {
            return new PolicyRule(this);
        }
    }
}
