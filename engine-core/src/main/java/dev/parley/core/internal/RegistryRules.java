package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.api.spi.PolicyRegistry;
import dev.parley.api.spi.ScopeDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The rules a turn is checked with: the host's, with the store registry's over them. The registry's rules are made
 * into policies once per registry version and reused until the version moves. Not API. Thread safe.
 */
final class RegistryRules {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryRules.class);

    /** The registry's rules made at one version. */
    private record Snapshot(long version, PolicySet rules, java.util.Set<String> replaced) {
    }

    private final PolicySet configured;
    private final PolicyRegistry registry;
    private final Map<String, PolicyFactory> factories;
    private final ScopeDirectory scopes;
    private volatile Snapshot snapshot;

    RegistryRules(PolicySet configured, PolicyRegistry registry, List<PolicyFactory> given, ScopeDirectory scopes) {
        this.configured = configured;
        this.registry = registry;
        this.scopes = scopes;
        Map<String, PolicyFactory> all = new LinkedHashMap<>();
        if (registry != null) {
            for (PolicyFactory f : ServiceLoader.load(PolicyFactory.class, RegistryRules.class.getClassLoader())) {
                all.putIfAbsent(f.kind(), f);
            }
        }
        for (PolicyFactory f : given) {
            all.put(f.kind(), f); // the host's own wins over one found on the class path
        }
        this.factories = Map.copyOf(all);
        this.snapshot = new Snapshot(0, PolicySet.none(), java.util.Set.of());
    }

    boolean hasRegistry() {
        return registry != null;
    }

    /** The registry, for the engine's admin handle. */
    PolicyRegistry registry() {
        if (registry == null) {
            throw new IllegalStateException("the engine's store keeps no policy rules: it is no PolicyRegistry");
        }
        return registry;
    }

    /**
     * The rules for a conversation: the configured ones not replaced by the registry, then the registry's enabled
     * ones, each where its scope says.
     *
     * @param version the registry's version as the turn read it; empty to read it now
     */
    List<PolicyRule> rulesFor(ConversationInfo conversation, java.util.OptionalLong version) {
        if (registry == null) {
            return configured.isEmpty() ? List.of() : configured.rulesFor(conversation);
        }
        long v = version.isPresent() ? version.getAsLong() : registry.policyVersion();
        Snapshot s = snapshot;
        if (s.version() != v) {
            s = load(v);
        }
        if (s.replaced().isEmpty() && s.rules().isEmpty()) {
            return configured.isEmpty() ? List.of() : configured.rulesFor(conversation);
        }
        List<PolicyRule> out = new ArrayList<>();
        for (PolicyRule r : configured.rulesFor(conversation)) {
            if (!s.replaced().contains(r.id())) {
                out.add(r);
            }
        }
        out.addAll(s.rules().rulesFor(conversation));
        return out;
    }

    private synchronized Snapshot load(long wanted) {
        Snapshot s = snapshot;
        if (s.version() == wanted) {
            return s; // another turn loaded it meanwhile
        }
        // The version first: specs changed after it only make the next turn load again.
        long version = registry.policyVersion();
        List<PolicySpec> specs = registry.policySpecs();
        List<PolicyRule> rules = new ArrayList<>();
        java.util.Set<String> replaced = new java.util.HashSet<>();
        for (PolicySpec spec : specs) {
            replaced.add(spec.id());
            if (!spec.enabled()) {
                continue;
            }
            PolicyFactory f = factories.get(spec.kind());
            if (f == null) {
                // Put by an engine that knows the kind; this one cannot check it, and says so each load.
                LOG.warn("Policy rule {} is of kind {}, which this engine has no factory for; it is not checked here",
                        spec.id(), spec.kind());
                continue;
            }
            try {
                rules.add(spec.toRule(f.create(spec)));
            } catch (RuntimeException e) {
                LOG.warn("Policy rule {} of kind {} could not be made ({}); it is not checked", spec.id(), spec.kind(),
                        e.getClass().getName());
            }
        }
        Snapshot fresh = new Snapshot(version, PolicySet.of(rules), java.util.Set.copyOf(replaced));
        snapshot = fresh;
        return fresh;
    }

    /** Checks a spec as {@link dev.parley.api.Policies#put} promises, before it is stored. */
    void check(PolicySpec spec) {
        PolicyFactory f = factories.get(spec.kind());
        if (f == null) {
            throw new InvalidRequestException("kind", "unknown policy kind " + spec.kind() + "; known: "
                    + new java.util.TreeSet<>(factories.keySet()));
        }
        f.create(spec); // refuses bad parameters, naming them
        String repository = spec.scope().repositoryId();
        if (repository != null) {
            var known = scopes.repository(repository);
            if (known.isEmpty() || !known.get().organizationId().equals(spec.scope().organizationId())) {
                throw new InvalidRequestException("scope.repositoryId", "unknown repository " + repository);
            }
        }
    }
}
