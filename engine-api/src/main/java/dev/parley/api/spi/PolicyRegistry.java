package dev.parley.api.spi;

import dev.parley.api.policy.PolicySpec;

import java.util.List;

/**
 * Rules kept in a store, so that they can be added, changed or disabled while engines run, without a restart: a
 * store capability of its own beside {@link ConversationStore}. Every engine sharing the store sees a change on its
 * next turn: it reads {@link #policyVersion()} each turn (a store may read it with the conversation, see
 * {@link ConversationStore.ConversationState#policyVersion()}) and reloads the rules when it moved. Every method is
 * atomic and thread safe.
 */
public interface PolicyRegistry {

    /** A number that grows with every change of the registry; 0 while it was never changed. */
    long policyVersion();

    /** Every rule of the registry, enabled or not, by id. */
    List<PolicySpec> policySpecs();

    /**
     * Adds the rule, or replaces the one with its id, and moves the version on.
     *
     * @return the registry's new version
     */
    long putPolicy(PolicySpec spec);

    /**
     * Removes the rule with this id, and moves the version on when there was one.
     *
     * @return whether there was one
     */
    boolean removePolicy(String id);
}
