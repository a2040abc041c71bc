package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.DenyListPolicy;

import java.util.List;
import java.util.Set;

/**
 * Kind {@code deny-list}: a {@link DenyListPolicy} of parameter {@code words} (separated by commas or newlines;
 * phrases keep their inner spaces) and {@code patterns} (Java regular expressions, one a line); at least one of
 * them. Thread safe. Not API.
 */
public final class DenyListPolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "deny-list";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params p = Params.of(spec, Set.of("words", "patterns"));
        DenyListPolicy.Builder b = DenyListPolicy.builder().id(spec.id());
        List<String> words = p.list("words", true);
        List<String> patterns = p.list("patterns", false);
        if (words == null && patterns == null) {
            throw new InvalidRequestException("parameters.words", "a deny list needs words or patterns");
        }
        if (words != null) {
            try {
                b.words(words);
            } catch (InvalidRequestException e) {
                throw Params.rename(e, "words");
            }
        }
        if (patterns != null) {
            try {
                b.patterns(patterns);
            } catch (InvalidRequestException e) {
                throw Params.rename(e, "patterns");
            }
        }
        return b.build();
    }
}
