package dev.parley.core.internal;

import dev.parley.api.PolicyBlockedException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.spi.StreamFilter;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The DURING policies of one streamed reply, as a {@link StreamFilter}: text goes on to the caller only after every
 * DURING rule has checked it, and the last {@code hold} characters (the longest span a rule needs to see whole, less
 * one) stay held until more text shows they cannot be the start of a finding, or the reply ends.
 *
 * <p>Each check sees a window: the end of the text already released (as the model wrote it, so that a rule sees
 * what precedes, a "password:" before a token) followed by all that is held. A finding of a BLOCK rule anywhere in
 * the held text stops the stream at once: nothing of it is released. A REDACT finding is released as its
 * placeholder, and never in part: the release stops before a finding that reaches past it. LOG and ALERT findings
 * are recorded once each, when the text they start in is released. Not API. One per stream; called by one thread
 * at a time, as every filter is.
 */
public final class PolicyStreamFilter implements StreamFilter {
    private final Governance governance;
    private final List<PolicyRule> rules;
    private final int hold;
    /** The end of the released text, as the model wrote it: the left context of the next window. */
    private final StringBuilder context = new StringBuilder();
    /** How many characters of the model's text were released so far. */
    private int released;
    /** How many characters of the last text given were held back: the new text of a call follows them. */
    private int held;
    /** Findings recorded already, by rule and absolute start, so that a window seen again records none twice. */
    private final Set<String> recorded = new HashSet<>();
    /** What each rule made of the stream so far. */
    private final Map<PolicyRule, PolicyOutcome.Status> status = new LinkedHashMap<>();
    private final Map<PolicyRule, Integer> findings = new LinkedHashMap<>();
    /** Every character the model wrote that reached this filter, for the tokens a blocked stream spent. */
    private final StringBuilder seen = new StringBuilder();
    private PolicyBlockedException thrown;

    public PolicyStreamFilter(Governance governance, List<PolicyRule> rules) {
        this.governance = governance;
        this.rules = List.copyOf(rules);
        int longest = 1;
        for (PolicyRule r : rules) {
            longest = Math.max(longest, Math.min(StreamFilter.MAX_HELD / 2, Math.max(1, r.policy().maxSpan())));
            status.put(r, PolicyOutcome.Status.PASSED);
            findings.put(r, 0);
        }
        this.hold = longest - 1;
    }

    /** How many characters the filter holds back at most while the reply streams. */
    public int holdBack() {
        return hold;
    }

    @Override
    public Release filter(String pending, boolean end) {
        seen.append(pending, held, pending.length());
        int length = pending.length();
        int boundary = end ? length : length - hold;
        if (boundary <= 0) {
            held = length;
            return Release.hold();
        }
        int base = context.length();
        String window = context + pending;
        int windowStart = released - base;
        List<PolicyChecks.Checked> checked = governance.check(rules, PolicyPhase.DURING, window, windowStart);
        List<Finding> redactions = new ArrayList<>();
        for (PolicyChecks.Checked c : checked) {
            if (c.status() == PolicyOutcome.Status.NOT_EVALUATED) {
                status.put(c.rule(), PolicyOutcome.Status.NOT_EVALUATED);
            } else if (c.rule().action() == PolicyAction.REDACT) {
                for (Finding f : c.findings()) {
                    if (f.end() > base) { // one wholly in text released before was judged then
                        redactions.add(f);
                    }
                }
            }
        }
        // Never release part of a span to redact: stop before one that reaches past the boundary.
        if (!end) {
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Finding f : redactions) {
                    if (f.start() - base < boundary && f.end() - base > boundary) {
                        boundary = Math.max(0, f.start() - base);
                        moved = true;
                    }
                }
            }
        }
        int cut = boundary;
        // A finding is recorded once: when the text it starts in is released, or at once when it blocks.
        PolicyBlock block = governance.record(checked, PolicyPhase.DURING, window, (rule, f) -> {
            boolean blocks = rule.action() == PolicyAction.BLOCK;
            if (f.end() <= base || !(f.start() - base < cut || blocks)
                    || !recorded.add(rule.id() + '@' + (windowStart + f.start()))) {
                return false;
            }
            findings.merge(rule, 1, Integer::sum);
            if (status.get(rule) != PolicyOutcome.Status.NOT_EVALUATED) {
                status.put(rule, PolicyOutcome.Status.FOUND);
            }
            return true;
        });
        if (block != null) {
            thrown = block.toException();
            throw thrown;
        }
        held = length - boundary;
        if (boundary == 0) {
            return Release.hold();
        }
        String out = redactions.isEmpty() ? pending.substring(0, boundary)
                : PolicyChecks.redact(window, redactions, base, base + boundary);
        context.append(pending, 0, boundary);
        if (context.length() > hold + 1) {
            context.delete(0, context.length() - (hold + 1));
        }
        released += boundary;
        return Release.replace(boundary, out);
    }

    @Override
    public void restart() {
        context.setLength(0);
        seen.setLength(0);
        released = 0;
        held = 0;
    }

    /** Whether {@code e} is the block this filter threw. */
    public boolean threw(RuntimeException e) {
        return e == thrown;
    }

    /** The text the model wrote up to the block, to count the tokens it spent. */
    public String seen() {
        return seen.toString();
    }

    /** What each rule made of the stream, in the order of the rules. */
    public List<PolicyOutcome> outcomes() {
        List<PolicyOutcome> out = new ArrayList<>(rules.size());
        for (PolicyRule r : rules) {
            PolicyOutcome.Status s = status.get(r);
            int n = findings.get(r);
            if (s == PolicyOutcome.Status.FOUND && n == 0) {
                s = PolicyOutcome.Status.PASSED;
            }
            out.add(new PolicyOutcome(r.id(), PolicyPhase.DURING, r.action(), s,
                    s == PolicyOutcome.Status.FOUND ? n : 0, r.failMode()));
        }
        return out;
    }

}
