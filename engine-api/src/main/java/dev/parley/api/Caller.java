package dev.parley.api;

import dev.parley.api.internal.Checks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Who is asking. The host builds a caller from its own authentication; Parley decides from it what the caller
 * may see and do:
 * <ul>
 *   <li>an organization admin sees and manages every conversation of the organization and may use every
 *       workspace in it;</li>
 *   <li>a workspace admin sees and manages every conversation of the workspaces they administer;</li>
 *   <li>anyone else sees only the conversations they own;</li>
 *   <li>creating a conversation in a workspace, and sending in it, needs membership (any role) of that
 *       workspace.</li>
 * </ul>
 * Immutable and thread safe.
 *
 * @param userId the caller's user id
 * @param organizationId the organization the caller acts in
 * @param organizationAdmin whether the caller administers the whole organization
 * @param workspaces the caller's role in each workspace of the organization they belong to
 * @param attributes values the host gives every turn of this caller (a plan, an account id); a prompt's own
 *                   attributes override them
 */
public record Caller(String userId, String organizationId, boolean organizationAdmin, Map<String, WorkspaceRole> workspaces,
                     TurnAttributes attributes) {

    /** A caller without attributes. */
    public Caller(String userId, String organizationId, boolean organizationAdmin, Map<String, WorkspaceRole> workspaces) {
        this(userId, organizationId, organizationAdmin, workspaces, TurnAttributes.EMPTY);
    }

    public Caller {
        Objects.requireNonNull(attributes, "attributes");
        Checks.id("userId", userId);
        Checks.id("organizationId", organizationId);
        Objects.requireNonNull(workspaces, "workspaces");
        workspaces.forEach((ws, role) -> {
            Checks.id("workspaceId", ws);
            Objects.requireNonNull(role, "role");
        });
        workspaces = Map.copyOf(workspaces);
    }

    /** Starts a caller for the user in the organization. */
    public static Builder user(String userId, String organizationId) {
        return new Builder(userId, organizationId);
    }

    /** The caller's role in the workspace, if any. An organization admin has no explicit role but may act as one. */
    public Optional<WorkspaceRole> roleIn(String workspaceId) {
        return Optional.ofNullable(workspaces.get(workspaceId));
    }

    /** Whether the caller may create and send in the workspace of this organization. */
    public boolean canUseWorkspace(String workspaceId) {
        return organizationAdmin || workspaces.containsKey(workspaceId);
    }

    /** Whether the caller sees every conversation of the workspace of this organization. */
    public boolean administers(String workspaceId) {
        return organizationAdmin || workspaces.get(workspaceId) == WorkspaceRole.ADMIN;
    }

    /** Builds a {@link Caller}. Not thread safe. */
    public static final class Builder {
        private final String userId;
        private final String organizationId;
        private boolean organizationAdmin;
        private final Map<String, WorkspaceRole> workspaces = new LinkedHashMap<>();
        private TurnAttributes attributes = TurnAttributes.EMPTY;

        private Builder(String userId, String organizationId) {
            this.userId = userId;
            this.organizationId = organizationId;
        }

        /** Makes the caller an admin of the whole organization. */
        public Builder organizationAdmin() {
            this.organizationAdmin = true;
            return this;
        }

        /** Adds membership of a workspace. */
        public Builder member(String workspaceId) {
            workspaces.put(Objects.requireNonNull(workspaceId, "workspaceId"), WorkspaceRole.MEMBER);
            return this;
        }

        /** Makes the caller admin of a workspace. */
        public Builder admin(String workspaceId) {
            workspaces.put(Objects.requireNonNull(workspaceId, "workspaceId"), WorkspaceRole.ADMIN);
            return this;
        }

        /**
         * Gives every turn of this caller an attribute.
         *
         * @throws IllegalArgumentException when the value is not of the key's type
         */
        public <T> Builder attribute(TurnAttribute<T> key, T value) {
            this.attributes = attributes.with(key, value);
            return this;
        }

        public Caller build() {
            return new Caller(userId, organizationId, organizationAdmin, workspaces, attributes);
        }
    }
}
