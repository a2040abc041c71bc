package dev.parley.api;

import dev.parley.api.internal.Checks;

import java.util.Objects;

/**
 * Where a registered model is visible: everywhere, or to the conversations of one organization, or of one
 * workspace or repository of an organization (for example a repository that brings its own API key). Workspace
 * and repository ids are taken within their organization, so a same-named workspace of another organization
 * never sees the model. When a name is registered in several scopes that cover a conversation, the narrowest
 * wins: repository, then workspace, then organization, then global. Immutable and thread safe.
 *
 * @param level the kind of scope
 * @param organizationId the organization; empty for {@link Level#GLOBAL}
 * @param id the workspace or repository id; empty for {@link Level#GLOBAL} and {@link Level#ORGANIZATION}
 */
public record ModelScope(Level level, String organizationId, String id) {

    /** Scope kinds, widest first. */
    public enum Level { GLOBAL, ORGANIZATION, WORKSPACE, REPOSITORY }

    private static final ModelScope GLOBAL = new ModelScope(Level.GLOBAL, "", "");

    public ModelScope {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(organizationId, "organizationId");
        Objects.requireNonNull(id, "id");
        if (level != Level.GLOBAL) {
            Checks.id("organizationId", organizationId);
        }
        if (level == Level.WORKSPACE || level == Level.REPOSITORY) {
            Checks.id("id", id);
        }
    }

    public static ModelScope global() {
        return GLOBAL;
    }

    public static ModelScope organization(String organizationId) {
        return new ModelScope(Level.ORGANIZATION, organizationId, "");
    }

    public static ModelScope workspace(String organizationId, String workspaceId) {
        return new ModelScope(Level.WORKSPACE, organizationId, workspaceId);
    }

    public static ModelScope repository(String organizationId, String repositoryId) {
        return new ModelScope(Level.REPOSITORY, organizationId, repositoryId);
    }
}
