package dev.parley.api.policy;

import dev.parley.api.ConversationInfo;
import dev.parley.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The policies an engine checks turns with, in the order they were given: rules of every scope, of which a turn
 * is checked by those whose scope contains its conversation. Immutable and thread safe.
 */
public final class PolicySet {
    private static final PolicySet NONE = new PolicySet(List.of());

    private final List<PolicyRule> rules;

    private PolicySet(List<PolicyRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** No policies. */
    public static PolicySet none() {
        return NONE;
    }

    /**
     * These rules, in this order.
     *
     * @throws InvalidRequestException naming {@code rules} when one is null or two share an id
     */
    public static PolicySet of(PolicyRule... rules) {
        if (rules == null) {
            throw new InvalidRequestException("rules", "is required");
        }
        return of(java.util.Arrays.asList(rules));
    }

    /**
     * These rules, in this order.
     *
     * @throws InvalidRequestException naming {@code rules} when one is null or two share an id
     */
    public static PolicySet of(List<PolicyRule> rules) {
        if (rules == null) {
            throw new InvalidRequestException("rules", "is required");
        }
        Set<String> ids = new HashSet<>();
        for (PolicyRule rule : rules) {
            if (rule == null) {
                throw new InvalidRequestException("rules", "must not contain null");
            }
            if (!ids.add(rule.id())) {
                throw new InvalidRequestException("rules", "has two rules with the id " + rule.id()
                        + ": give one another id");
            }
        }
        return new PolicySet(rules);
    }

    /** This set and {@code more} after it. */
    public PolicySet with(PolicySet more) {
        Objects.requireNonNull(more, "more");
        List<PolicyRule> all = new ArrayList<>(rules);
        all.addAll(more.rules);
        return of(all);
    }

    /** Every rule, in order. */
    public List<PolicyRule> rules() {
        return rules;
    }

    /** Whether the set has no rule. */
    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** The rules that apply to a conversation, in order. */
    public List<PolicyRule> rulesFor(ConversationInfo conversation) {
        List<PolicyRule> applying = new ArrayList<>(rules.size());
        for (PolicyRule rule : rules) {
            if (rule.scope().contains(conversation)) {
                applying.add(rule);
            }
        }
        return applying;
    }

    @Override
    public String toString() {
        return "PolicySet" + rules.stream().map(PolicyRule::id).toList();
    }
}
