package dev.parley.api.spi;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Knows the host's repositories: which workspace and organization each belongs to. Repository-scoped
 * conversations inherit both from here. Must be thread safe.
 */
@FunctionalInterface
public interface ScopeDirectory {

    /** The repository, or empty when it is unknown. */
    Optional<RepositoryScope> repository(String repositoryId);

    /** A directory that knows no repository. */
    static ScopeDirectory none() {
        return id -> Optional.empty();
    }

    /** A directory of a fixed set of repositories, keyed by id. */
    static ScopeDirectory of(Map<String, RepositoryScope> repositories) {
        Map<String, RepositoryScope> copy = Map.copyOf(repositories);
        return id -> Optional.ofNullable(copy.get(id));
    }

    /**
     * A repository and where it belongs.
     *
     * @param repositoryId the repository
     * @param organizationId its organization
     * @param workspaceId its workspace, or null for an orphan repository (conversations on it are refused)
     */
    record RepositoryScope(String repositoryId, String organizationId, @Nullable String workspaceId) {
        public RepositoryScope {
            Objects.requireNonNull(repositoryId, "repositoryId");
            Objects.requireNonNull(organizationId, "organizationId");
        }

        public Optional<String> workspace() {
            return Optional.ofNullable(workspaceId);
        }
    }
}
