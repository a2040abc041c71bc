package dev.parley.policy.internal;

import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.SecretsPolicy;

import java.util.Set;

/** Kind {@code secrets}: {@link SecretsPolicy#standard()}; it takes no parameters. Thread safe. Not API. */
public final class SecretsPolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "secrets";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params.of(spec, Set.of());
        return SecretsPolicy.standard().withId(spec.id());
    }
}
