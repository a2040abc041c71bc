package dev.parley.api;

import dev.parley.api.internal.Checks;

import org.jspecify.annotations.Nullable;

/**
 * Which conversations to list: all the caller may see, optionally narrowed to one workspace or repository,
 * newest first. Immutable and thread safe.
 *
 * @param workspaceId only this workspace, or null
 * @param repositoryId only this repository, or null
 * @param page which page
 */
public record ConversationQuery(@Nullable String workspaceId, @Nullable String repositoryId, PageRequest page) {

    public ConversationQuery {
        Checks.optionalId("workspaceId", workspaceId);
        Checks.optionalId("repositoryId", repositoryId);
        java.util.Objects.requireNonNull(page, "page");
    }

    /** Every conversation the caller may see. */
    public static ConversationQuery all(PageRequest page) {
        return new ConversationQuery(null, null, page);
    }

    /** The caller's visible conversations in one workspace. */
    public static ConversationQuery inWorkspace(String workspaceId, PageRequest page) {
        return new ConversationQuery(Checks.id("workspaceId", workspaceId), null, page);
    }

    /** The caller's visible conversations of one repository. */
    public static ConversationQuery inRepository(String repositoryId, PageRequest page) {
        return new ConversationQuery(null, Checks.id("repositoryId", repositoryId), page);
    }

}
