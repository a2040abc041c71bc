package dev.parley.api.credits;

import dev.parley.api.internal.Checks;

import java.util.Objects;

/**
 * Whose credits an account holds: an organization, one of its workspaces, one of its users, or one of its
 * repositories. A turn is charged to every account whose owner it falls under: its conversation's organization,
 * workspace and repository (when it has one), and its caller in that organization. Each owner has at most one
 * account. Immutable and thread safe.
 *
 * @param kind what owns the account
 * @param organizationId the organization it belongs to
 * @param ownerId the owner's id: the organization's own id for {@link Kind#ORGANIZATION}, else the workspace's,
 *                user's or repository's id
 */
public record AccountOwner(Kind kind, String organizationId, String ownerId) {
    /** What owns an account; in the order a turn's accounts are listed. */
    public enum Kind {
        ORGANIZATION, WORKSPACE, REPOSITORY, USER
    }

    /** @throws dev.parley.api.InvalidRequestException naming the id that is missing or malformed */
    public AccountOwner {
        Objects.requireNonNull(kind, "kind");
        Checks.id("organizationId", organizationId);
        Checks.id("ownerId", ownerId);
        if (kind == Kind.ORGANIZATION && !ownerId.equals(organizationId)) {
            throw new dev.parley.api.InvalidRequestException("ownerId", "of an organization account is the organization's id");
        }
    }

    /** The organization's own account. */
    public static AccountOwner organization(String organizationId) {
        return new AccountOwner(Kind.ORGANIZATION, organizationId, organizationId);
    }

    /** A workspace's account. */
    public static AccountOwner workspace(String organizationId, String workspaceId) {
        return new AccountOwner(Kind.WORKSPACE, organizationId, workspaceId);
    }

    /** A repository's account. */
    public static AccountOwner repository(String organizationId, String repositoryId) {
        return new AccountOwner(Kind.REPOSITORY, organizationId, repositoryId);
    }

    /** A user's account in an organization. */
    public static AccountOwner user(String organizationId, String userId) {
        return new AccountOwner(Kind.USER, organizationId, userId);
    }
}
