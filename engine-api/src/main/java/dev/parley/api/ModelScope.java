package dev.parley.api;

import dev.parley.api.internal.Checks;
import java.util.Objects;

/**
 * Where a registered model is visible: everywhere, or to the conversations of one organization, workspace or
 * repository (for example a repository that brings its own API key). When a name is registered in several
 * scopes that cover a conversation, the narrowest wins: repository, then workspace, then organization, then
 * global. Immutable and thread safe.
 *
 * @param level the kind of scope
 * @param id the organization, workspace or repository id; empty for {@link Level#GLOBAL}
 */
public record ModelScope(Level level, String id) {

    /** Scope kinds, widest first. */
    public enum Level { GLOBAL, ORGANIZATION, WORKSPACE, REPOSITORY }

    private static final ModelScope GLOBAL = new ModelScope(Level.GLOBAL, "");

    public ModelScope {
        Objects.requireNonNull(level, "level");
        Objects.requireNonNull(id, "id");
        if (level != Level.GLOBAL) {
            Checks.id("id", id);
        }
    }

    public static ModelScope global() {
        return GLOBAL;
    }

    public static ModelScope organization(String organizationId) {
        return new ModelScope(Level.ORGANIZATION, organizationId);
    }

    public static ModelScope workspace(String workspaceId) {
        return new ModelScope(Level.WORKSPACE, workspaceId);
    }

    public static ModelScope repository(String repositoryId) {
        return new ModelScope(Level.REPOSITORY, repositoryId);
    }
}
