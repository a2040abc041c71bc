package dev.parley.policy.internal;

import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.PromptInjectionPolicy;

import java.util.Set;

/** Kind {@code prompt-injection}: {@link PromptInjectionPolicy#standard()}; no parameters. Thread safe. Not API. */
public final class PromptInjectionPolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "prompt-injection";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params.of(spec, Set.of());
        return PromptInjectionPolicy.standard().withId(spec.id());
    }
}
