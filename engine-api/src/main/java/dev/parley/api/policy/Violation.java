package dev.parley.api.policy;

import dev.parley.api.internal.Checks;

import java.time.Instant;
import java.util.Objects;

/**
 * A finding kept for compliance: what a policy found in which turn, and what was done about it. Stored in the
 * turn's own transaction (with the turn, or not at all), and listed per conversation and per workspace, newest
 * first. Immutable and thread safe.
 *
 * @param id the violation's id
 * @param conversationId the conversation
 * @param organizationId its organization
 * @param workspaceId its workspace
 * @param messageId the turn's message id (the prompt's)
 * @param ruleId the id of the rule that found it
 * @param category what was found ({@link Finding#category()})
 * @param action what was done
 * @param phase when it was found
 * @param at when it was recorded
 * @param excerpt the text around the finding, at most {@value #MAX_EXCERPT_LENGTH} characters, with the matched
 *                part and every other finding in it masked as {@code [CATEGORY]}; never the matched text
 */
public record Violation(String id, String conversationId, String organizationId, String workspaceId,
                        String messageId, String ruleId, String category, PolicyAction action, PolicyPhase phase,
                        Instant at, String excerpt) {
    /** The longest excerpt kept. */
    public static final int MAX_EXCERPT_LENGTH = 160;

    public Violation {
        Checks.id("id", id);
        Checks.id("conversationId", conversationId);
        Checks.id("organizationId", organizationId);
        Checks.id("workspaceId", workspaceId);
        Checks.id("messageId", messageId);
        PolicyRule.checkId("ruleId", ruleId);
        Objects.requireNonNull(category, "category");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(excerpt, "excerpt");
        if (excerpt.length() > MAX_EXCERPT_LENGTH) {
            throw new IllegalArgumentException("excerpt must be at most " + MAX_EXCERPT_LENGTH + " characters");
        }
    }

    /** Ids, rule, category, action and phase; not the excerpt, which is user text. */
    @Override
    public String toString() {
        return "Violation{id=" + id + ", conversationId=" + conversationId + ", messageId=" + messageId + ", ruleId="
                + ruleId + ", category=" + category + ", action=" + action + ", phase=" + phase + ", at=" + at + "}";
    }
}
