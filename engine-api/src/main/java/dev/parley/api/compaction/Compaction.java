package dev.parley.api.compaction;

import dev.parley.api.ConversationInfo;
import dev.parley.api.internal.Checks;
import org.jspecify.annotations.Nullable;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Summarizing compaction, as an engine applies it. When a turn's context leaves out history that no summary covers
 * yet, and that history holds more than {@linkplain Builder#threshold(int) the threshold} of tokens, the engine has
 * the summarizer model write a summary of it (from the previous summary and the messages after it, at most
 * {@linkplain Builder#maxInputTokens(int) maxInputTokens} of them at a time) and stores it beside the history, which
 * stays stored and listed as it was. Later turns send the latest summary in place of the history it covers, within
 * the same {@code contextSize}.
 *
 * <p>Compaction never runs on a turn's path: it runs after the turn is stored, on a thread of the engine's. An
 * engine compacts a conversation only while it holds the conversation's compaction claim in the store (a lease,
 * renewed while the summarizer works, taken as a message id's claim is), and a summary is stored only if it covers
 * more than the latest one, so each range of history is summarized once however many engines share the store. A
 * crash leaves no summary half-written: a summary, its charge and its usage are stored in one transaction, and the
 * dead engine's claim lapses with its lease. A summarizer's failure, a reservation the accounts refuse, or a summary
 * the POST policies block is recorded ({@link dev.parley.api.values.AuditEvent.Type#COMPACTION_FAILED}) and the
 * conversation is compacted again by a later turn, no sooner than {@linkplain Builder#retryAfter(Duration)
 * retryAfter} after it (doubled for each failure in a row, at most 64 times); turns keep working with plain trimming
 * meanwhile.
 *
 * <p>A summary is checked with the conversation's POST policy rules before it is stored: a REDACT rule's spans are
 * replaced with their placeholders, a BLOCK rule (or a fail-closed rule that could not check it) withholds it. LOG
 * and ALERT findings on a summary are not recorded as violations, since a summary is no turn. The summarizer's call
 * is metered as a turn's: its credits are reserved before the call (the request's tokens, estimated from the stored
 * counts of its messages, and {@linkplain Builder#maxSummaryTokens(int) maxSummaryTokens}) on the conversation's
 * accounts (its organization,
 * workspace, repository and owner), never past what they hold, and charged after it, a withheld summary's too (the
 * model did the work); a call that failed is charged nothing. Its usage is recorded in the usage ledger under the
 * conversation's owner and the summarizer's model, as one request; it is not added to the conversation's totals,
 * which are its messages'.
 *
 * <p>It needs a store that keeps summaries ({@link dev.parley.api.spi.SummaryLog}): the in-memory and JDBC stores
 * do. Immutable and thread safe.
 */
public final class Compaction {
    /** The tokens of uncovered, left-out history a summary is written at, when the builder is given none. */
    public static final int DEFAULT_THRESHOLD = 2_000;
    /** The most tokens of history one summary reads, when the builder is given none. */
    public static final int DEFAULT_MAX_INPUT_TOKENS = 8_000;
    /** The output tokens a summary is capped at, when the builder is given none. */
    public static final int DEFAULT_MAX_SUMMARY_TOKENS = 1_000;
    /** How long after a failure a conversation is summarized again, when the builder is given none. */
    public static final Duration DEFAULT_RETRY_AFTER = Duration.ofMinutes(1);

    /** No compaction: turns trim history and nothing is summarized. The engine's default. */
    public static final Compaction OFF = new Compaction(null, 0, 0, 0, SummaryPrompt.DEFAULT, c -> false,
            DEFAULT_RETRY_AFTER);

    private final @Nullable String model;
    private final int threshold;
    private final int maxInputTokens;
    private final int maxSummaryTokens;
    private final SummaryPrompt prompt;
    private final Predicate<ConversationInfo> appliesTo;
    private final Duration retryAfter;

    private Compaction(@Nullable String model, int threshold, int maxInputTokens, int maxSummaryTokens,
                       SummaryPrompt prompt, Predicate<ConversationInfo> appliesTo, Duration retryAfter) {
        this.model = model;
        this.threshold = threshold;
        this.maxInputTokens = maxInputTokens;
        this.maxSummaryTokens = maxSummaryTokens;
        this.prompt = prompt;
        this.appliesTo = appliesTo;
        this.retryAfter = retryAfter;
    }

    /**
     * Compaction by the model registered under {@code model} (resolved in each conversation's scope, as a turn's
     * model is).
     */
    public static Builder summarizeWith(String model) {
        return new Builder(Checks.label("model", model, 256));
    }

    /** The summarizer's registered name; empty when compaction is off. */
    public Optional<String> model() {
        return Optional.ofNullable(model);
    }

    /** Whether compaction is on. */
    public boolean enabled() {
        return model != null;
    }

    /** Whether a conversation is compacted: compaction is on and its predicate lets the conversation through. */
    public boolean appliesTo(ConversationInfo conversation) {
        return model != null && appliesTo.test(conversation);
    }

    public int threshold() {
        return threshold;
    }

    public int maxInputTokens() {
        return maxInputTokens;
    }

    public int maxSummaryTokens() {
        return maxSummaryTokens;
    }

    public SummaryPrompt prompt() {
        return prompt;
    }

    public Duration retryAfter() {
        return retryAfter;
    }

    @Override
    public String toString() {
        return model == null ? "Compaction{off}" : "Compaction{model=" + model + ", threshold=" + threshold
                + ", maxInputTokens=" + maxInputTokens + ", maxSummaryTokens=" + maxSummaryTokens + ", retryAfter="
                + retryAfter + "}";
    }

    /** Builds a {@link Compaction}. Not thread safe. */
    public static final class Builder {
        private final String model;
        private int threshold = DEFAULT_THRESHOLD;
        private int maxInputTokens = DEFAULT_MAX_INPUT_TOKENS;
        private int maxSummaryTokens = DEFAULT_MAX_SUMMARY_TOKENS;
        private SummaryPrompt prompt = SummaryPrompt.DEFAULT;
        private Predicate<ConversationInfo> appliesTo = c -> true;
        private Duration retryAfter = DEFAULT_RETRY_AFTER;

        private Builder(String model) {
            this.model = model;
        }

        /**
         * Summarize once the history a turn left out, and no summary covers, holds more than this many tokens (by
         * the stored counts of its messages); at least 1.
         */
        public Builder threshold(int tokens) {
            this.threshold = positive("threshold", tokens);
            return this;
        }

        /**
         * The most tokens of messages one summary reads (whole turns; at least one turn, however large); history
         * longer than that is summarized over several compactions. At least 1.
         */
        public Builder maxInputTokens(int tokens) {
            this.maxInputTokens = positive("maxInputTokens", tokens);
            return this;
        }

        /**
         * The output tokens the summarizer may write, reserved against the accounts; 1 to
         * {@link dev.parley.api.Limits#MAX_OUTPUT_TOKENS}.
         */
        public Builder maxSummaryTokens(int tokens) {
            if (tokens < 1 || tokens > dev.parley.api.Limits.MAX_OUTPUT_TOKENS) {
                throw new IllegalArgumentException("maxSummaryTokens must be between 1 and "
                        + dev.parley.api.Limits.MAX_OUTPUT_TOKENS + ": " + tokens);
            }
            this.maxSummaryTokens = tokens;
            return this;
        }

        /** What the summarizer is asked; {@link SummaryPrompt#DEFAULT} unless set. */
        public Builder prompt(SummaryPrompt summaryPrompt) {
            this.prompt = Objects.requireNonNull(summaryPrompt, "prompt");
            return this;
        }

        /**
         * Which conversations are compacted (all unless set): a conversation the predicate refuses is trimmed only.
         * The predicate runs on the engine's threads, on every turn that leaves history out; it must be fast,
         * thread safe, and not call the engine.
         */
        public Builder appliesTo(Predicate<ConversationInfo> conversations) {
            this.appliesTo = Objects.requireNonNull(conversations, "appliesTo");
            return this;
        }

        /** How long after a failed compaction a conversation is summarized again; positive. */
        public Builder retryAfter(Duration delay) {
            Objects.requireNonNull(delay, "retryAfter");
            if (delay.isNegative() || delay.isZero()) {
                throw new IllegalArgumentException("retryAfter must be positive: " + delay);
            }
            this.retryAfter = delay;
            return this;
        }

        public Compaction build() {
            return new Compaction(model, threshold, maxInputTokens, maxSummaryTokens, prompt, appliesTo, retryAfter);
        }

        private static int positive(String field, int tokens) {
            if (tokens < 1) {
                throw new IllegalArgumentException(field + " must be at least 1: " + tokens);
            }
            return tokens;
        }
    }
}
