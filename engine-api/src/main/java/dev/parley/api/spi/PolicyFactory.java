package dev.parley.api.spi;

import dev.parley.api.policy.PolicySpec;

/**
 * Makes policies of one kind from the parameters of a {@link PolicySpec}, so that a rule kept in a store's
 * {@link PolicyRegistry} can be checked by any engine. engine-policy has a factory for each built-in policy; the
 * engine finds factories on the class path ({@code META-INF/services/dev.parley.api.spi.PolicyFactory}) and takes
 * more from {@code ConversationEngine.Builder#policyFactory}. Must be thread safe.
 */
public interface PolicyFactory {

    /** The kind this factory makes, as specs name it: 1 to 64 characters of a-z, 0-9, '.', '_', '-'. */
    String kind();

    /**
     * A policy with the spec's parameters; the spec's id becomes the policy's id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code parameters.<name>} (or {@code parameters}) when a
     *         parameter is missing, unknown or bad: checked when the spec is put in the registry, so that a bad one
     *         is never stored
     */
    Policy create(PolicySpec spec);
}
