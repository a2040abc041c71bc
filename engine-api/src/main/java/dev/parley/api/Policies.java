package dev.parley.api;

import dev.parley.api.policy.PolicySpec;

import java.util.List;

/**
 * The rules of the engine's store's {@linkplain dev.parley.api.spi.PolicyRegistry policy registry}: added, changed
 * or disabled while engines run, and seen by every engine sharing the store on its next turn. A registry rule with
 * the id of a rule the host configured in code ({@link ConversationEngine.Builder#policies}) takes its place; a
 * disabled one removes it. Who may change governance is the host's decision: this handle has no caller. Thread
 * safe.
 */
public interface Policies {

    /** Every rule of the registry, enabled or not. */
    List<PolicySpec> list();

    /**
     * Adds the rule or replaces the one with its id, once it is known to be good: its kind has a factory, the
     * factory accepts its parameters, and a repository scope names a repository the engine's scope directory knows.
     *
     * @throws InvalidRequestException naming the field ({@code kind}, {@code parameters.<name>},
     *                                 {@code scope.repositoryId}); nothing is stored then
     */
    void put(PolicySpec spec);

    /**
     * Removes the rule with this id.
     *
     * @return whether there was one
     */
    boolean remove(String id);
}
