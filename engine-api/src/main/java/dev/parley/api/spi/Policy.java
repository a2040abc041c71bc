package dev.parley.api.spi;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;

import java.util.List;

/**
 * A check of a turn's text that reports what it finds: spans, categories and reasons, never the matched text.
 * What a finding leads to (log, alert, block, redact), in which phases a policy runs and where it applies is
 * configuration, given by a {@link dev.parley.api.policy.PolicyRule}; so one policy class serves every action.
 *
 * <p>Must be thread safe: one policy checks the texts of many turns at once. A check must not change anything
 * outside itself; it may be called again with an overlapping text (a streamed reply is checked window by window).
 * A check that throws, or answers after its {@linkplain PolicyInput#remaining() budget}, is recorded as not
 * evaluated, and the rule's {@link dev.parley.api.policy.FailMode} decides what the turn does.
 */
public interface Policy {

    /** The longest span a built-in policy needs to see whole. */
    int DEFAULT_MAX_SPAN = 256;

    /**
     * The policy's stable id, recorded with each violation: 1 to 64 characters of lower-case letters, digits,
     * '.', '_' and '-'.
     */
    String id();

    /**
     * Checks a text.
     *
     * @return the findings, each a span of {@code input.text()} with this policy's id; empty when it finds nothing
     */
    List<Finding> check(PolicyInput input);

    /**
     * The longest span this policy needs to see whole to find it: while a reply streams, the engine holds back
     * that many characters less one, so that nothing the policy could still be matching reaches the caller. A
     * format without a bound (a PEM block) is caught by its bounded start. At most
     * {@link StreamFilter#MAX_HELD}.
     */
    default int maxSpan() {
        return DEFAULT_MAX_SPAN;
    }
}
