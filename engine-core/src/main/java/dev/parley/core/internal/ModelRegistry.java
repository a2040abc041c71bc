package dev.parley.core.internal;

import dev.parley.api.ConversationInfo;
import dev.parley.api.EngineConfig;
import dev.parley.api.ModelScope;
import dev.parley.api.spi.ModelProvider;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The registered models by scope and name; the narrowest scope that covers a conversation wins. Immutable. */
final class ModelRegistry {
    private final Map<ModelScope, Map<String, ModelProvider>> byScope = new HashMap<>();

    ModelRegistry(List<EngineConfig.ModelRegistration> registrations) {
        for (EngineConfig.ModelRegistration r : registrations) {
            byScope.computeIfAbsent(r.scope(), s -> new HashMap<>()).put(r.name(), r.provider());
        }
    }

    /** The model named {@code name} for a conversation in this organization, workspace and repository. */
    Optional<ModelProvider> find(String name, String organizationId, String workspaceId, String repositoryId) {
        if (repositoryId != null) {
            ModelProvider p = lookup(ModelScope.repository(organizationId, repositoryId), name);
            if (p != null) {
                return Optional.of(p);
            }
        }
        ModelProvider p = lookup(ModelScope.workspace(organizationId, workspaceId), name);
        if (p == null) {
            p = lookup(ModelScope.organization(organizationId), name);
        }
        if (p == null) {
            p = lookup(ModelScope.global(), name);
        }
        return Optional.ofNullable(p);
    }

    Optional<ModelProvider> find(String name, ConversationInfo c) {
        return find(name, c.organizationId(), c.workspaceId(), c.repositoryId());
    }

    /** Every provider registered under a name, in any scope. */
    List<ModelProvider> allNamed(String name) {
        return byScope.values().stream().map(m -> m.get(name)).filter(p -> p != null).toList();
    }

    private ModelProvider lookup(ModelScope scope, String name) {
        Map<String, ModelProvider> models = byScope.get(scope);
        return models == null ? null : models.get(name);
    }
}
