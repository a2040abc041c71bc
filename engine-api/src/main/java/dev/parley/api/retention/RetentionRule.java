package dev.parley.api.retention;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.internal.Checks;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Which conversations a purge hard-deletes: those of one organization (or one of its workspaces), live or
 * soft-deleted, that have had no turn or change for {@code inactiveFor}, or that were soft-deleted more than
 * {@code deletedFor} ago. At least one of the two is set. Immutable and thread safe.
 *
 * <pre>{@code
 * engine.maintenance().purge(RetentionRule.organization("acme").inactiveFor(Duration.ofDays(365))
 *         .deletedFor(Duration.ofDays(30)).build());
 * }</pre>
 *
 * @param organizationId the organization whose conversations the rule covers
 * @param workspaceId one workspace of it, or null for all of them
 * @param inactiveFor how long a conversation is kept after its last change, or null for no such limit
 * @param deletedFor how long a soft-deleted conversation is kept, or null to keep deleted ones
 */
public record RetentionRule(String organizationId, @Nullable String workspaceId, @Nullable Duration inactiveFor,
                            @Nullable Duration deletedFor) {
    /**
     * @throws InvalidRequestException naming the field: a missing or malformed id, a period of less than one
     *                                 second or more than 100 years, or neither period set
     */
    public RetentionRule {
        Checks.id("organizationId", organizationId);
        Checks.optionalId("workspaceId", workspaceId);
        period("inactiveFor", inactiveFor);
        period("deletedFor", deletedFor);
        if (inactiveFor == null && deletedFor == null) {
            throw new InvalidRequestException("inactiveFor", "or deletedFor is required");
        }
    }

    private static void period(String field, @Nullable Duration value) {
        if (value != null && (value.compareTo(Duration.ofSeconds(1)) < 0 || value.compareTo(Duration.ofDays(36_525)) > 0)) {
            throw new InvalidRequestException(field, "must be between 1 second and 100 years");
        }
    }

    /** The workspace, when the rule covers one. */
    public Optional<String> workspace() {
        return Optional.ofNullable(workspaceId);
    }

    /** A rule for the conversations of {@code organizationId}. */
    public static Builder organization(String organizationId) {
        return new Builder(organizationId);
    }

    /** Builds a {@link RetentionRule}. Not thread safe. */
    public static final class Builder {
        private final String organizationId;
        private @Nullable String workspaceId;
        private @Nullable Duration inactiveFor;
        private @Nullable Duration deletedFor;

        private Builder(String organizationId) {
            this.organizationId = organizationId;
        }

        /** Only the conversations of this workspace. */
        public Builder workspace(String workspaceId) {
            this.workspaceId = Objects.requireNonNull(workspaceId, "workspaceId");
            return this;
        }

        /** Purge conversations, live or deleted, with no turn or change for this long. */
        public Builder inactiveFor(Duration period) {
            this.inactiveFor = Objects.requireNonNull(period, "inactiveFor");
            return this;
        }

        /** Purge conversations soft-deleted longer ago than this. */
        public Builder deletedFor(Duration period) {
            this.deletedFor = Objects.requireNonNull(period, "deletedFor");
            return this;
        }

        /** The rule, checked. */
        public RetentionRule build() {
            return new RetentionRule(organizationId, workspaceId, inactiveFor, deletedFor);
        }
    }
}
