package dev.parley.api.values;

import dev.parley.api.Credits;
import dev.parley.api.MessageStatus;
import dev.parley.api.Usage;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a turn produced, as it travels back up the pipeline. The provider call creates it with the model's text
 * and reported usage; the accounting stage settles tokens ({@link #withUsage}); a budget stage holds credits for
 * it ({@link #withHold}), which the commit charges ({@link #withCredits}); the persist stage adds the stored reply's id and time ({@link #withStored}). What a
 * stage has not set yet is empty, never a -1 or a null. Immutable and thread safe.
 *
 * <p>It carries the {@link Turn} the answer was produced for: the turn as the innermost stage saw it, with the
 * request and token counts the context stage derived. Stages on the way out read those from here, since the
 * turn they received themselves was derived before the inner stages ran.
 */
public final class TurnResult {
    private final Turn turn;
    private final String text;
    private final String model;
    private final Usage reportedUsage;
    private final Usage usage;
    private final int replyTokens;
    private final MessageStatus status;
    private final boolean replayed;
    private final String messageId;
    private final Instant createdAt;
    private final Credits credits;
    private final java.util.List<dev.parley.api.policy.PolicyOutcome> policyOutcomes;
    private final java.util.List<dev.parley.api.policy.Violation> violations;
    private final dev.parley.api.policy.PolicyBlock blocked;
    private final dev.parley.api.credits.CreditHold hold;

    private TurnResult(Turn turn, String text, String model, Usage reportedUsage, Usage usage, int replyTokens,
                       MessageStatus status, boolean replayed, String messageId, Instant createdAt, Credits credits) {
        this(turn, text, model, reportedUsage, usage, replyTokens, status, replayed, messageId, createdAt, credits,
                java.util.List.of(), java.util.List.of(), null, null);
    }

    private TurnResult(Turn turn, String text, String model, Usage reportedUsage, Usage usage, int replyTokens,
                       MessageStatus status, boolean replayed, String messageId, Instant createdAt, Credits credits,
                       java.util.List<dev.parley.api.policy.PolicyOutcome> policyOutcomes,
                       java.util.List<dev.parley.api.policy.Violation> violations,
                       dev.parley.api.policy.PolicyBlock blocked, dev.parley.api.credits.CreditHold hold) {
        this.hold = hold;
        this.policyOutcomes = java.util.List.copyOf(policyOutcomes);
        this.violations = java.util.List.copyOf(violations);
        this.blocked = blocked;
        this.turn = Objects.requireNonNull(turn, "turn");
        this.text = Objects.requireNonNull(text, "text");
        this.model = Objects.requireNonNull(model, "model");
        this.reportedUsage = reportedUsage;
        this.usage = usage;
        this.replyTokens = replyTokens;
        this.status = Objects.requireNonNull(status, "status");
        this.replayed = replayed;
        this.messageId = messageId;
        this.createdAt = createdAt;
        this.credits = Objects.requireNonNull(credits, "credits");
    }

    /** A fresh answer to {@code turn} by its model, with the usage the provider reported, if it reported any. */
    public static TurnResult fromModel(Turn turn, String text, Optional<Usage> reportedUsage) {
        return new TurnResult(turn, text, turn.model(), reportedUsage.orElse(null), null, -1, MessageStatus.COMPLETE,
                false, null, null, Credits.unmetered());
    }

    /** The part of an answer to {@code turn} that had streamed when the stream was cancelled; no usage reported. */
    public static TurnResult cancelled(Turn turn, String partialText) {
        return new TurnResult(turn, partialText, turn.model(), null, null, -1, MessageStatus.CANCELLED, false, null,
                null, Credits.unmetered());
    }

    /**
     * The answer to a streamed turn cancelled before the model was called: empty, CANCELLED, with zero usage
     * reported, since the model read and wrote nothing.
     */
    public static TurnResult cancelledBeforeCall(Turn turn) {
        return new TurnResult(turn, "", turn.model(), Usage.ZERO, null, -1, MessageStatus.CANCELLED, false, null,
                null, Credits.unmetered());
    }

    /**
     * A reply read from the store for a message id sent again: settled and stored already, marked replayed.
     *
     * @param usage the stored turn's settled usage
     * @param replyTokens the stored reply's token count
     */
    public static TurnResult replayed(Turn turn, String text, String model, Usage usage, int replyTokens,
                                      MessageStatus status, String messageId, Instant createdAt) {
        return replayed(turn, text, model, usage, replyTokens, status, messageId, createdAt, Credits.unmetered());
    }

    /**
     * A reply read from the store for a message id sent again, with the credits its turn was charged when it was
     * stored: a replay is not charged again.
     */
    public static TurnResult replayed(Turn turn, String text, String model, Usage usage, int replyTokens,
                                      MessageStatus status, String messageId, Instant createdAt, Credits charged) {
        Objects.requireNonNull(usage, "usage");
        Objects.requireNonNull(messageId, "messageId");
        Objects.requireNonNull(createdAt, "createdAt");
        return new TurnResult(turn, text, model, null, usage, replyTokens, status, true, messageId, createdAt,
                Objects.requireNonNull(charged, "charged"));
    }

    /** The turn the answer was produced for. */
    public Turn turn() {
        return turn;
    }

    /** The reply as the model wrote it (or as a stage on the way out rewrote it). */
    public String text() {
        return text;
    }

    /** The model that answered. */
    public String model() {
        return model;
    }

    /** The usage the provider reported; empty when it reported none. */
    public Optional<Usage> reportedUsage() {
        return Optional.ofNullable(reportedUsage);
    }

    /** The turn's settled usage; empty before the accounting stage. */
    public Optional<Usage> usage() {
        return Optional.ofNullable(usage);
    }

    /** The reply's own token count; empty before the accounting stage. */
    public OptionalInt replyTokens() {
        return usage == null ? OptionalInt.empty() : OptionalInt.of(replyTokens);
    }

    /** How the reply ended. */
    public MessageStatus status() {
        return status;
    }

    /** Whether the reply was read from the store instead of produced by a model call. */
    public boolean replayed() {
        return replayed;
    }

    /** The stored reply's id; empty before the persist stage. */
    public Optional<String> messageId() {
        return Optional.ofNullable(messageId);
    }

    /** The stored reply's time; empty before the persist stage. */
    public Optional<Instant> createdAt() {
        return Optional.ofNullable(createdAt);
    }

    /** What the turn was charged; {@link Credits#unmetered()} unless a credits stage charged it. */
    public Credits credits() {
        return credits;
    }

    /** The same result with its usage settled and the reply's token count. */
    public TurnResult withUsage(Usage settled, int tokens) {
        Objects.requireNonNull(settled, "settled");
        if (tokens < 0) {
            throw new IllegalArgumentException("tokens must not be negative: " + tokens);
        }
        return new TurnResult(turn, text, model, reportedUsage, settled, tokens, status, replayed, messageId,
                createdAt, credits, policyOutcomes, violations, blocked, hold);
    }

    /** The same result with the stored reply's id and time. */
    public TurnResult withStored(String id, Instant at) {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, replayed,
                Objects.requireNonNull(id, "id"), Objects.requireNonNull(at, "at"), credits, policyOutcomes, violations,
                blocked, hold);
    }

    /** The same result marked as read from the store. */
    public TurnResult asReplayed() {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, true, messageId, createdAt,
                credits, policyOutcomes, violations, blocked, hold);
    }

    /** The same result with another reply text (a stage on the way out that rewrote it). */
    public TurnResult withText(String newText) {
        return new TurnResult(turn, newText, model, reportedUsage, usage, replyTokens, status, replayed, messageId,
                createdAt, credits, policyOutcomes, violations, blocked, hold);
    }

    /** The same result with what the turn was charged, for the caller's {@code Reply.credits()}. */
    public TurnResult withCredits(Credits charged) {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, replayed, messageId,
                createdAt, Objects.requireNonNull(charged, "charged"), policyOutcomes, violations, blocked, hold);
    }

    /**
     * A streamed or sent turn that a policy blocked before the model was called: no text, zero usage reported,
     * since the model read and wrote nothing. The persist stage settles its message id as blocked and throws
     * {@link PolicyBlock#toException()}.
     */
    public static TurnResult blockedBeforeCall(Turn turn, dev.parley.api.policy.PolicyBlock block) {
        return new TurnResult(turn, "", turn.model(), Usage.ZERO, null, -1, MessageStatus.FAILED, false, null, null,
                Credits.unmetered(), java.util.List.of(), java.util.List.of(), Objects.requireNonNull(block, "block"), null);
    }

    /** How each configured policy judged each phase of the turn, in the order they ran; empty without policies. */
    public java.util.List<dev.parley.api.policy.PolicyOutcome> policyOutcomes() {
        return policyOutcomes;
    }

    /** The violations the policies found, to be stored with the turn. */
    public java.util.List<dev.parley.api.policy.Violation> violations() {
        return violations;
    }

    /**
     * The rule that blocked the turn, when one did: its text is withheld ({@link #text()} is empty), and the persist
     * stage settles the message id as blocked instead of storing messages, then fails the turn with
     * {@link PolicyBlock#toException()}.
     */
    public Optional<dev.parley.api.policy.PolicyBlock> blocked() {
        return Optional.ofNullable(blocked);
    }

    /** The same result with these policy outcomes and violations added after those it had. */
    public TurnResult withPolicy(java.util.List<dev.parley.api.policy.PolicyOutcome> outcomes,
                                 java.util.List<dev.parley.api.policy.Violation> found) {
        if (outcomes.isEmpty() && found.isEmpty()) {
            return this;
        }
        java.util.List<dev.parley.api.policy.PolicyOutcome> allOutcomes = new java.util.ArrayList<>(policyOutcomes);
        allOutcomes.addAll(outcomes);
        java.util.List<dev.parley.api.policy.Violation> allViolations = new java.util.ArrayList<>(violations);
        allViolations.addAll(found);
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, replayed, messageId,
                createdAt, credits, allOutcomes, allViolations, blocked, hold);
    }

    /**
     * The same result blocked by {@code block}: its text withheld (emptied). The tokens the model spent are still
     * counted: the usage the provider reported, or else {@code spent}, the caller's estimate of the withheld text.
     */
    public TurnResult withBlock(dev.parley.api.policy.PolicyBlock block, Usage spent) {
        Objects.requireNonNull(spent, "spent");
        return new TurnResult(turn, "", model, reportedUsage == null ? spent : reportedUsage, usage, replyTokens,
                MessageStatus.FAILED, replayed,
                messageId, createdAt, credits, policyOutcomes, violations, Objects.requireNonNull(block, "block"), hold);
    }

    /**
     * The credits the turn holds for its model call, when a budget stage reserved them: the persist stage charges
     * the turn's real cost against it in the turn's commit. Empty for a turn no budget metered.
     */
    public Optional<dev.parley.api.credits.CreditHold> hold() {
        return Optional.ofNullable(hold);
    }

    /** The same result holding these credits for its commit to charge. */
    public TurnResult withHold(dev.parley.api.credits.CreditHold reserved) {
        return new TurnResult(turn, text, model, reportedUsage, usage, replyTokens, status, replayed, messageId,
                createdAt, credits, policyOutcomes, violations, blocked, Objects.requireNonNull(reserved, "hold"));
    }

    /** Counts and ids only: never the reply text. */
    @Override
    public String toString() {
        return "TurnResult{chars=" + text.length() + ", model=" + model + ", usage=" + usage + ", status=" + status
                + ", replayed=" + replayed + ", messageId=" + messageId + ", credits=" + credits + "}";
    }
}
