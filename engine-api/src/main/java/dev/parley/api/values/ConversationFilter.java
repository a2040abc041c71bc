package dev.parley.api.values;

import java.util.Objects;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Which conversations a list may return: those of one organization that the caller may see
 * ({@code wholeOrganization}, or in one of {@code adminWorkspaces}, or owned by {@code ownerId}), optionally
 * narrowed to one workspace or repository. Immutable and thread safe.
 *
 * @param organizationId the organization
 * @param wholeOrganization every conversation of the organization is visible
 * @param adminWorkspaces workspaces whose every conversation is visible
 * @param ownerId the user whose own conversations are visible
 * @param workspaceId only this workspace, or null
 * @param repositoryId only this repository, or null
 */
public record ConversationFilter(
        String organizationId,
        boolean wholeOrganization,
        Set<String> adminWorkspaces,
        String ownerId,
        @Nullable String workspaceId,
        @Nullable String repositoryId) {

    public ConversationFilter {
        Objects.requireNonNull(organizationId, "organizationId");
        adminWorkspaces = Set.copyOf(adminWorkspaces);
        Objects.requireNonNull(ownerId, "ownerId");
    }

    /** Whether a conversation with these attributes passes the filter. Stores may use it, or the same rule in SQL. */
    public boolean accepts(String organization, String workspace, String repository, String owner) {
        if (!organizationId.equals(organization)) {
            return false;
        }
        if (workspaceId != null && !workspaceId.equals(workspace)) {
            return false;
        }
        if (repositoryId != null && !repositoryId.equals(repository)) {
            return false;
        }
        return wholeOrganization || adminWorkspaces.contains(workspace) || ownerId.equals(owner);
    }
}
