package dev.parley.api.spi;

import dev.parley.api.values.Turn;

import java.util.Objects;

/**
 * A rule checked on a turn's text before the model call, while it streams, and after it. This release defines
 * the shape only; the policy stage and implementations come with engine-policy. Must be thread safe.
 */
public interface Policy {

    /** When a policy is checked. */
    enum Phase { PRE, DURING, POST }

    /** What a violation leads to. */
    enum Action { LOG, ALERT, BLOCK }

    /** The policy's stable name, recorded with each violation. */
    String name();

    /** What a violation of this policy leads to. */
    Action action();

    /** Checks a text of the turn in a phase. */
    Verdict check(Phase phase, String text, Turn turn);

    /**
     * The outcome of one check.
     *
     * @param violated whether the text breaks the policy
     * @param reason why, without quoting the text; empty when not violated
     */
    record Verdict(boolean violated, String reason) {
        public static final Verdict PASS = new Verdict(false, "");

        public Verdict {
            Objects.requireNonNull(reason, "reason");
        }

        public static Verdict violation(String reason) {
            return new Verdict(true, reason);
        }
    }
}
