package dev.parley.api.policy;

import dev.parley.api.ConversationInfo;
import dev.parley.api.internal.Checks;

import org.jspecify.annotations.Nullable;

/**
 * Where a configured policy applies: everywhere, in one organization, one workspace of it, or one repository of
 * it. A narrower scope adds to the wider ones: a conversation is checked by every rule whose scope contains it.
 * Immutable and thread safe.
 *
 * @param organizationId the organization, or null for every organization
 * @param workspaceId the workspace of that organization, or null for all of them
 * @param repositoryId the repository of that organization, or null for all of them
 */
public record PolicyScope(@Nullable String organizationId, @Nullable String workspaceId,
                          @Nullable String repositoryId) {
    private static final PolicyScope EVERYWHERE = new PolicyScope(null, null, null);

    /**
     * @throws dev.parley.api.InvalidRequestException naming {@code scope.organizationId} when a workspace or
     *         repository is given without its organization, or an id is blank or malformed
     */
    public PolicyScope {
        Checks.optionalId("scope.organizationId", organizationId);
        Checks.optionalId("scope.workspaceId", workspaceId);
        Checks.optionalId("scope.repositoryId", repositoryId);
        if (organizationId == null && (workspaceId != null || repositoryId != null)) {
            throw new dev.parley.api.InvalidRequestException("scope.organizationId",
                    "is required for a workspace or repository scope");
        }
    }

    /** Every conversation of every organization. */
    public static PolicyScope everywhere() {
        return EVERYWHERE;
    }

    /** Every conversation of one organization. */
    public static PolicyScope organization(String organizationId) {
        return new PolicyScope(Checks.id("scope.organizationId", organizationId), null, null);
    }

    /** The conversations of one workspace. */
    public static PolicyScope workspace(String organizationId, String workspaceId) {
        return new PolicyScope(Checks.id("scope.organizationId", organizationId),
                Checks.id("scope.workspaceId", workspaceId), null);
    }

    /** The conversations of one repository. */
    public static PolicyScope repository(String organizationId, String repositoryId) {
        return new PolicyScope(Checks.id("scope.organizationId", organizationId), null,
                Checks.id("scope.repositoryId", repositoryId));
    }

    /** Whether a conversation is in this scope. */
    public boolean contains(ConversationInfo conversation) {
        return (organizationId == null || organizationId.equals(conversation.organizationId()))
                && (workspaceId == null || workspaceId.equals(conversation.workspaceId()))
                && (repositoryId == null || repositoryId.equals(conversation.repositoryId()));
    }
}
