package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.SizePolicy;

import java.util.Set;

/**
 * Kind {@code size}: a {@link SizePolicy} of parameters {@code maxChars} and {@code maxTokens} (positive whole
 * numbers of at most 2^31-1; at least one). Thread safe. Not API.
 */
public final class SizePolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "size";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params p = Params.of(spec, Set.of("maxChars", "maxTokens"));
        Long chars = p.positiveLong("maxChars");
        Long tokens = p.positiveLong("maxTokens");
        if (chars == null && tokens == null) {
            throw new InvalidRequestException("parameters.maxChars", "a size policy needs maxChars or maxTokens");
        }
        SizePolicy.Builder b = SizePolicy.builder().id(spec.id());
        if (chars != null) {
            b.maxChars(toInt(chars, "maxChars"));
        }
        if (tokens != null) {
            b.maxTokens(toInt(tokens, "maxTokens"));
        }
        return b.build();
    }

    private static int toInt(long value, String name) {
        if (value > Integer.MAX_VALUE) {
            throw new InvalidRequestException("parameters." + name, "must be at most " + Integer.MAX_VALUE);
        }
        return (int) value;
    }
}
