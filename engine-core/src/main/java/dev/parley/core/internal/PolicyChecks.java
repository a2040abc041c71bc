package dev.parley.core.internal;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Runs configured policies over one text and says what each found, or that it could not answer: a check that
 * throws, answers after its time budget, or answers with findings outside the text is {@code NOT_EVALUATED}.
 * Not API. Stateless and thread safe.
 */
public final class PolicyChecks {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyChecks.class);

    private PolicyChecks() {
    }

    /**
     * What one rule made of one text.
     *
     * @param rule the rule
     * @param status PASSED, FOUND or NOT_EVALUATED
     * @param findings the findings, sorted by start, within the text; empty unless FOUND
     */
    public record Checked(PolicyRule rule, PolicyOutcome.Status status, List<Finding> findings) {
        public Checked {
            findings = List.copyOf(findings);
        }
    }

    /**
     * Checks {@code text} with every rule, each seeing the text as given (never another rule's redaction of it).
     *
     * @param offset how many characters of a longer text come before this one (a streamed reply's window)
     */
    public static List<Checked> check(List<PolicyRule> rules, PolicyPhase phase, String text, int offset, Turn turn,
                                      EngineServices services, TokenCounter counter) {
        List<Checked> out = new ArrayList<>(rules.size());
        PolicyInput base = PolicyInput.of(phase, text).withTokenCounter(counter).forTurn(turn, services)
                .withOffset(offset);
        for (PolicyRule rule : rules) {
            out.add(checkOne(rule, base, text, phase, turn));
        }
        return out;
    }

    private static Checked checkOne(PolicyRule rule, PolicyInput base, String text, PolicyPhase phase, Turn turn) {
        long budget = rule.timeBudget().toNanos();
        long start = System.nanoTime();
        List<Finding> found;
        try {
            found = rule.policy().check(base.withBudget(rule.timeBudget()));
        } catch (RuntimeException | StackOverflowError e) {
            // The exception's message may quote the text: its class only, the rest at DEBUG.
            LOG.warn("Policy {} could not check the {} text of a turn in conversation {} ({}); it counts as not "
                    + "evaluated", rule.id(), phase, turn.conversation().id(), e.getClass().getName());
            LOG.debug("Policy {} failed", rule.id(), e);
            return notEvaluated(rule);
        }
        long took = System.nanoTime() - start;
        if (took > budget) {
            LOG.warn("Policy {} took {} ms over its budget of {} ms on the {} text of a turn in conversation {}; it "
                    + "counts as not evaluated", rule.id(), (took - budget) / 1_000_000, budget / 1_000_000, phase,
                    turn.conversation().id());
            return notEvaluated(rule);
        }
        if (found == null) {
            LOG.warn("Policy {} answered null; it counts as not evaluated", rule.id());
            return notEvaluated(rule);
        }
        for (Finding f : found) {
            if (f == null || f.end() > text.length()) {
                LOG.warn("Policy {} answered a finding outside the {} characters it was given; it counts as not "
                        + "evaluated", rule.id(), text.length());
                return notEvaluated(rule);
            }
        }
        if (found.isEmpty()) {
            return new Checked(rule, PolicyOutcome.Status.PASSED, List.of());
        }
        List<Finding> sorted = new ArrayList<>(found);
        sorted.sort(Comparator.comparingInt(Finding::start).thenComparingInt(Finding::end));
        return new Checked(rule, PolicyOutcome.Status.FOUND, sorted);
    }

    /**
     * Whether what a rule made of a text stops it: a BLOCK rule's findings, or a fail-closed rule that could not
     * check it, whatever its action.
     */
    public static boolean blocks(Checked c) {
        return c.status() == PolicyOutcome.Status.FOUND && c.rule().action() == dev.parley.api.policy.PolicyAction.BLOCK
                || c.status() == PolicyOutcome.Status.NOT_EVALUATED
                && c.rule().failMode() == dev.parley.api.policy.FailMode.CLOSED;
    }

    private static Checked notEvaluated(PolicyRule rule) {
        return new Checked(rule, PolicyOutcome.Status.NOT_EVALUATED, List.of());
    }

    /**
     * {@code text} from {@code from} to {@code to} with every span of {@code redactions} in that range replaced by
     * its placeholder; overlapping spans become one, named by the first.
     */
    public static String redact(String text, List<Finding> redactions, int from, int to) {
        List<Finding> spans = new ArrayList<>(redactions);
        spans.sort(Comparator.comparingInt(Finding::start));
        StringBuilder out = new StringBuilder(to - from + 32);
        int at = from;
        for (int i = 0; i < spans.size(); i++) {
            Finding f = spans.get(i);
            int start = Math.max(f.start(), from);
            int end = Math.min(f.end(), to);
            if (end <= at || start >= to) {
                continue;
            }
            // Join every later span that overlaps this one.
            while (i + 1 < spans.size() && spans.get(i + 1).start() < end) {
                end = Math.max(end, Math.min(spans.get(i + 1).end(), to));
                i++;
            }
            start = Math.max(start, at);
            out.append(text, at, start).append(f.placeholder());
            at = end;
        }
        out.append(text, at, to);
        return out.toString();
    }

    /**
     * The text around {@code finding}, at most {@link dev.parley.api.policy.Violation#MAX_EXCERPT_LENGTH}
     * characters, with it and every other finding in reach masked as {@code [CATEGORY]} and line breaks and other
     * control characters shown as spaces: a compliance record that shows where, never what.
     */
    public static String excerpt(String text, Finding finding, List<Finding> all) {
        int reach = 48;
        int from = Math.max(0, finding.start() - reach);
        int to = Math.min(text.length(), finding.end() + reach);
        if (from > 0 && Character.isLowSurrogate(text.charAt(from))) {
            from++;
        }
        if (to < text.length() && to > 0 && Character.isHighSurrogate(text.charAt(to - 1))) {
            to--;
        }
        List<Finding> spans = new ArrayList<>(all);
        spans.sort(Comparator.comparingInt(Finding::start));
        StringBuilder out = new StringBuilder();
        int at = from;
        for (int i = 0; i < spans.size(); i++) {
            Finding f = spans.get(i);
            int end = f.end();
            if (end <= at || f.start() >= to) {
                continue;
            }
            while (i + 1 < spans.size() && spans.get(i + 1).start() < end) {
                end = Math.max(end, spans.get(i + 1).end());
                i++;
            }
            appendVisible(out, text, at, Math.max(at, f.start()));
            out.append('[').append(f.category()).append(']');
            at = Math.max(at, end);
        }
        if (at < to) {
            appendVisible(out, text, at, to);
        }
        int max = dev.parley.api.policy.Violation.MAX_EXCERPT_LENGTH;
        if (out.length() > max) {
            int cut = max;
            if (Character.isLowSurrogate(out.charAt(cut)) && Character.isHighSurrogate(out.charAt(cut - 1))) {
                cut--;
            }
            out.setLength(cut);
        }
        return out.toString();
    }

    private static void appendVisible(StringBuilder out, String text, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = text.charAt(i);
            int type = Character.getType(c);
            out.append(Character.isISOControl(c) || type == Character.FORMAT || type == Character.LINE_SEPARATOR
                    || type == Character.PARAGRAPH_SEPARATOR ? ' ' : c);
        }
    }
}
