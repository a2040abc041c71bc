package dev.parley.core;

import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Usage;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.Turn;
import dev.parley.api.values.TurnResult;
import dev.parley.core.internal.Governance;
import dev.parley.core.internal.PolicyChecks;
import dev.parley.core.internal.PolicyStreamFilter;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks a turn with the engine's policies ({@link dev.parley.api.ConversationEngine.Builder#policies}), those whose
 * scope contains the conversation, so that no text reaches the model or the caller before every policy of that
 * phase has seen it.
 *
 * <ul>
 *   <li><b>PRE</b>, before history is read or the model is called: the prompt and each additional-context snippet,
 *       each on its own. A BLOCK stops the turn before any model call; a REDACT replaces the spans in the prompt,
 *       so that the model's request, the stored history and the audit trail hold only the placeholders.</li>
 *   <li><b>DURING</b>, on a stream: a {@link dev.parley.api.spi.StreamFilter} that holds back the longest span a
 *       DURING rule needs to see whole, less one, and releases text only after every DURING rule checked it; a
 *       BLOCK stops the stream and the provider at once and delivers nothing of the held text; a REDACT delivers
 *       and stores the placeholder. On a send, whose reply is delivered whole, DURING rules check the whole reply
 *       (their outcomes and violations say DURING), before the POST ones see what they left.</li>
 *   <li><b>POST</b>, on the whole reply before it is returned and stored: a BLOCK withholds it, a REDACT returns
 *       and stores the redacted reply. On a stream the text has already reached the listener through the DURING
 *       rules: a POST rule decides what is stored and returned in the final reply.</li>
 * </ul>
 *
 * Every rule of a phase sees the text as it was given, never another rule's redaction of it. LOG, ALERT and REDACT
 * findings become violations, stored with the turn; a blocked turn is settled by {@link PersistStage} without any
 * text, with its violations and audit events, and its message id refused the same way when sent again. A check
 * that throws or runs past its budget is {@link PolicyOutcome.Status#NOT_EVALUATED}: the turn goes on (fail-open)
 * or is blocked (fail-closed). The outcomes of every check are on the result ({@link TurnResult#policyOutcomes()})
 * and the reply, and the turn's listener is told of them
 * ({@link dev.parley.api.spi.EngineListener#policyChecked}). Replays never reach this stage: the idempotency stage
 * answers them. Stateless and thread safe.
 */
public final class PolicyStage implements PromptStage {

    @Override
    public TurnResult intercept(Chain chain) {
        Turn turn = chain.turn();
        List<PolicyRule> rules = chain.services().policies(turn.conversation());
        if (rules.isEmpty()) {
            return chain.proceed(turn);
        }
        TurnResult answered = govern(chain, turn, rules);
        dev.parley.api.spi.EngineListener listener = chain.services().listener();
        if (listener != dev.parley.api.spi.EngineListener.NONE) {
            listener.policyChecked(turn.context(), answered.policyOutcomes());
        }
        return answered;
    }

    private static TurnResult govern(Chain chain, Turn turn, List<PolicyRule> rules) {
        Governance governance = new Governance(turn, chain.services());
        Turn checked = pre(governance, turn, rules);
        PolicyBlock block = governance.block();
        if (block != null) {
            return TurnResult.blockedBeforeCall(turn, block).withPolicy(governance.outcomes(), governance.violations());
        }
        PolicyStreamFilter filter = null;
        List<PolicyRule> during = phase(rules, PolicyPhase.DURING);
        if (turn.stream() != null && !during.isEmpty()) {
            filter = new PolicyStreamFilter(governance, during);
            turn.stream().addFilter(filter);
        }
        TurnResult result;
        try {
            result = chain.proceed(checked);
        } catch (PolicyBlockedException e) {
            if (filter == null || !filter.threw(e)) {
                throw e;
            }
            governance.outcomes(filter.outcomes());
            Usage spent = new Usage(governance.counter().count(checked.prompt().text()),
                    governance.counter().count(filter.seen()));
            return TurnResult.fromModel(checked, "", Optional.empty())
                    .withBlock(governance.block(), spent)
                    .withPolicy(governance.outcomes(), governance.violations());
        }
        if (filter != null) {
            governance.outcomes(filter.outcomes());
        }
        return post(governance, result, rules, turn.stream() != null);
    }

    private static Turn pre(Governance governance, Turn turn, List<PolicyRule> rules) {
        List<PolicyRule> pre = phase(rules, PolicyPhase.PRE);
        if (pre.isEmpty()) {
            return turn;
        }
        Prompt prompt = turn.prompt();
        // One outcome per rule for the phase, over the prompt and every snippet.
        List<PolicyChecks.Checked> all = new ArrayList<>();
        String text = check(governance, pre, PolicyPhase.PRE, prompt.text(), all);
        List<String> context = new ArrayList<>(prompt.additionalContext().size());
        boolean changed = !text.equals(prompt.text());
        for (String snippet : prompt.additionalContext()) {
            String checkedSnippet = check(governance, pre, PolicyPhase.PRE, snippet, all);
            changed |= !checkedSnippet.equals(snippet);
            context.add(checkedSnippet);
        }
        governance.outcomes(merged(pre, all, PolicyPhase.PRE));
        return changed && governance.block() == null ? turn.withPrompt(prompt.withContent(text, context)) : turn;
    }

    /** Per rule, what it made of all the texts it checked in a phase. */
    private static List<PolicyOutcome> merged(List<PolicyRule> rules, List<PolicyChecks.Checked> checked,
                                              PolicyPhase phase) {
        List<PolicyOutcome> out = new ArrayList<>(rules.size());
        for (PolicyRule rule : rules) {
            PolicyOutcome.Status status = PolicyOutcome.Status.PASSED;
            int findings = 0;
            for (PolicyChecks.Checked c : checked) {
                if (c.rule() != rule) {
                    continue;
                }
                if (c.status() == PolicyOutcome.Status.NOT_EVALUATED) {
                    status = PolicyOutcome.Status.NOT_EVALUATED;
                } else if (c.status() == PolicyOutcome.Status.FOUND && status != PolicyOutcome.Status.NOT_EVALUATED) {
                    status = PolicyOutcome.Status.FOUND;
                }
                findings += c.findings().size();
            }
            out.add(new PolicyOutcome(rule.id(), phase, rule.action(), status,
                    status == PolicyOutcome.Status.FOUND ? findings : 0, rule.failMode()));
        }
        return out;
    }

    private static TurnResult post(Governance governance, TurnResult result, List<PolicyRule> rules, boolean streamed) {
        // On a send the reply is delivered whole: a DURING rule checks it whole, under its own phase, before POST.
        List<PolicyRule> during = new ArrayList<>();
        List<PolicyRule> post = new ArrayList<>();
        for (PolicyRule r : rules) {
            if (r.checks(PolicyPhase.POST)) {
                post.add(r);
            } else if (!streamed && r.checks(PolicyPhase.DURING)) {
                during.add(r);
            }
        }
        if (post.isEmpty() && during.isEmpty() || result.replayed()) {
            return result.withPolicy(governance.outcomes(), governance.violations());
        }
        String original = result.text();
        String text = original;
        if (!during.isEmpty()) {
            List<PolicyChecks.Checked> checked = new ArrayList<>();
            text = check(governance, during, PolicyPhase.DURING, text, checked);
            governance.outcomes(merged(during, checked, PolicyPhase.DURING));
        }
        if (!post.isEmpty() && governance.block() == null) {
            List<PolicyChecks.Checked> checked = new ArrayList<>();
            text = check(governance, post, PolicyPhase.POST, text, checked);
            governance.outcomes(merged(post, checked, PolicyPhase.POST));
        }
        PolicyBlock block = governance.block();
        if (block != null) {
            Turn answered = result.turn();
            long in = answered.requestTokens().isPresent() ? answered.requestTokens().getAsLong()
                    : governance.counter().count(answered.prompt().text());
            return result.withBlock(block, new Usage(in, governance.counter().count(original)))
                    .withPolicy(governance.outcomes(), governance.violations());
        }
        return (text.equals(original) ? result : result.withText(text))
                .withPolicy(governance.outcomes(), governance.violations());
    }

    /** Checks one text with the rules of a phase, records what they found, and returns it redacted. */
    private static String check(Governance governance, List<PolicyRule> rules, PolicyPhase phase, String text,
                                List<PolicyChecks.Checked> all) {
        List<PolicyChecks.Checked> checked = governance.check(rules, phase, text, 0);
        all.addAll(checked);
        List<Finding> redactions = new ArrayList<>();
        for (PolicyChecks.Checked c : checked) {
            if (c.rule().action() == PolicyAction.REDACT) {
                redactions.addAll(c.findings());
            }
        }
        governance.record(checked, phase, text, (rule, f) -> true);
        return redactions.isEmpty() ? text : PolicyChecks.redact(text, redactions, 0, text.length());
    }

    private static List<PolicyRule> phase(List<PolicyRule> rules, PolicyPhase phase) {
        List<PolicyRule> out = new ArrayList<>(rules.size());
        for (PolicyRule r : rules) {
            if (r.checks(phase)) {
                out.add(r);
            }
        }
        return out;
    }
}
