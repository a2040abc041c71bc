package dev.parley.api.usage;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.internal.Checks;

import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * Which usage to report, of the caller's organization: the days from {@code from} to {@code to} (inclusive, UTC, at
 * most {@link #MAX_DAYS}), grouped per day and per {@link #groupBy()}, optionally only of one workspace, user,
 * conversation or model. Rows come newest day first, then by key. Immutable and thread safe.
 *
 * <pre>{@code
 * UsageQuery.by(UsageQuery.GroupBy.MODEL, LocalDate.parse("2026-12-01"), LocalDate.parse("2026-12-31"))
 *         .inWorkspace("ws-1")
 * }</pre>
 *
 * @param groupBy what each row is of, beside its day
 * @param from the first day
 * @param to the last day
 * @param workspaceId only this workspace's turns, or null for all
 * @param userId only this user's turns, or null for all the caller may see
 * @param conversationId only this conversation's turns, or null for all
 * @param model only this model's turns, or null for all
 */
public record UsageQuery(GroupBy groupBy, LocalDate from, LocalDate to, @Nullable String workspaceId,
                         @Nullable String userId, @Nullable String conversationId, @Nullable String model) {
    /** The longest range of days a query may cover. */
    public static final int MAX_DAYS = 366;

    /** What a row is of, beside its day. */
    public enum GroupBy {
        CONVERSATION, USER, WORKSPACE, MODEL
    }

    /** @throws InvalidRequestException naming the field that is missing or out of range */
    public UsageQuery {
        if (groupBy == null) {
            throw new InvalidRequestException("groupBy", "is required");
        }
        if (from == null) {
            throw new InvalidRequestException("from", "is required");
        }
        if (to == null) {
            throw new InvalidRequestException("to", "is required");
        }
        if (to.isBefore(from)) {
            throw new InvalidRequestException("to", "must not be before from");
        }
        if (ChronoUnit.DAYS.between(from, to) >= MAX_DAYS) {
            throw new InvalidRequestException("to", "must be within " + MAX_DAYS + " days of from");
        }
        if (workspaceId != null) {
            Checks.id("workspaceId", workspaceId);
        }
        if (userId != null) {
            Checks.id("userId", userId);
        }
        if (conversationId != null) {
            Checks.id("conversationId", conversationId);
        }
        if (model != null) {
            Checks.label("model", model, 256);
        }
    }

    /** Every turn of the days, grouped per day and {@code groupBy}. */
    public static UsageQuery by(GroupBy groupBy, LocalDate from, LocalDate to) {
        return new UsageQuery(groupBy, from, to, null, null, null, null);
    }

    /** The same query, of one workspace's turns. */
    public UsageQuery inWorkspace(String id) {
        return new UsageQuery(groupBy, from, to, Objects.requireNonNull(id, "workspaceId"), userId, conversationId, model);
    }

    /** The same query, of one user's turns. */
    public UsageQuery ofUser(String id) {
        return new UsageQuery(groupBy, from, to, workspaceId, Objects.requireNonNull(id, "userId"), conversationId, model);
    }

    /** The same query, of one conversation's turns. */
    public UsageQuery inConversation(String id) {
        return new UsageQuery(groupBy, from, to, workspaceId, userId, Objects.requireNonNull(id, "conversationId"), model);
    }

    /** The same query, of one model's turns. */
    public UsageQuery ofModel(String name) {
        return new UsageQuery(groupBy, from, to, workspaceId, userId, conversationId, Objects.requireNonNull(name, "model"));
    }

    /** The workspace filter, if any. */
    public Optional<String> workspace() {
        return Optional.ofNullable(workspaceId);
    }

    /** The user filter, if any. */
    public Optional<String> user() {
        return Optional.ofNullable(userId);
    }
}
