package dev.parley.policy.internal;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.policy.PiiPolicy;

import java.util.List;
import java.util.Set;

/**
 * Kind {@code pii}: a {@link PiiPolicy} with optional parameters {@code kinds} (comma separated among email,
 * phone, card, iban; all by default) and {@code regions} (comma separated ISO 3166 codes; US, GB, DE, FR, IN by
 * default). Thread safe. Not API.
 */
public final class PiiPolicyFactory implements PolicyFactory {
    @Override
    public String kind() {
        return "pii";
    }

    @Override
    public Policy create(PolicySpec spec) {
        Params p = Params.of(spec, Set.of("kinds", "regions"));
        PiiPolicy.Builder b = PiiPolicy.builder().id(spec.id());
        List<String> kinds = p.list("kinds", true);
        if (kinds != null) {
            try {
                b.kinds(kinds);
            } catch (InvalidRequestException e) {
                throw Params.rename(e, "kinds");
            }
        }
        List<String> regions = p.list("regions", true);
        if (regions != null) {
            try {
                b.regions(regions.toArray(String[]::new));
            } catch (InvalidRequestException e) {
                throw Params.rename(e, "regions");
            }
        }
        return b.build();
    }
}
