package dev.parley.api.policy;

import dev.parley.api.internal.Checks;

import org.jspecify.annotations.Nullable;

/**
 * Which violations to list: those of one conversation, or of every conversation of one workspace. Immutable and
 * thread safe.
 *
 * @param organizationId the organization
 * @param workspaceId the workspace
 * @param conversationId the one conversation, or null for the whole workspace
 */
public record ViolationQuery(String organizationId, String workspaceId, @Nullable String conversationId) {

    public ViolationQuery {
        Checks.id("organizationId", organizationId);
        Checks.id("workspaceId", workspaceId);
        Checks.optionalId("conversationId", conversationId);
    }

    /** The violations of every conversation of a workspace. */
    public static ViolationQuery workspace(String organizationId, String workspaceId) {
        return new ViolationQuery(organizationId, workspaceId, null);
    }

    /** The violations of one conversation of a workspace. */
    public static ViolationQuery conversation(String organizationId, String workspaceId, String conversationId) {
        return new ViolationQuery(organizationId, workspaceId, Checks.id("conversationId", conversationId));
    }
}
