package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.LlmJudgePolicy;

import java.util.Set;

/**
 * Kind {@code llm-judge}: an {@link LlmJudgePolicy} asking the model registered under parameter {@code model}
 * (required). Thread safe. Not API.
 */
public final class LlmJudgePolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "llm-judge";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params p = Params.of(spec, Set.of("model"));
        String model = p.get("model");
        if (model == null || model.isBlank()) {
            throw new InvalidRequestException("parameters.model",
                    "is required: the registered name of the judge model");
        }
        return LlmJudgePolicy.using(model.trim()).withId(spec.id());
    }
}
