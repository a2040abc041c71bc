package dev.parley.core.internal;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.Violation;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;

import java.util.ArrayList;
import java.util.List;

/**
 * What the policies of one turn found and did, gathered as the turn runs: outcomes for the reply, violations and
 * audit events for the turn's commit, and the block if one stopped it. Not API. Thread safe: the stream filter
 * and the stage may add from different threads.
 */
public final class Governance {
    private final Turn turn;
    private final EngineServices services;
    private final TokenCounter counter;
    private final List<PolicyOutcome> outcomes = new ArrayList<>();
    private final List<Violation> violations = new ArrayList<>();
    private PolicyBlock block;

    public Governance(Turn turn, EngineServices services) {
        this.turn = turn;
        this.services = services;
        this.counter = services.tokenCounter(turn.model());
    }

    public Turn turn() {
        return turn;
    }

    public EngineServices services() {
        return services;
    }

    public TokenCounter counter() {
        return counter;
    }

    /** Checks one text of the turn with {@code rules} in {@code phase}. */
    public List<PolicyChecks.Checked> check(List<PolicyRule> rules, PolicyPhase phase, String text, int offset) {
        return PolicyChecks.check(rules, phase, text, offset, turn, services, counter);
    }

    /**
     * Records what the checks of one text found: a violation per finding (excerpts from {@code text}, whose
     * findings are those given, shifted into it by {@code shift}), an audit event per rule that found something,
     * and the block, if a rule blocks. Findings outside {@code keep} are skipped (a streamed window's findings
     * that are not yet, or no longer, its own).
     *
     * @return the block, if one of the checks blocks the turn
     */
    public synchronized PolicyBlock record(List<PolicyChecks.Checked> checked, PolicyPhase phase, String text,
                                           java.util.function.BiPredicate<PolicyRule, Finding> keep) {
        List<Finding> all = new ArrayList<>();
        for (PolicyChecks.Checked c : checked) {
            all.addAll(c.findings());
        }
        PolicyBlock found = null;
        for (PolicyChecks.Checked c : checked) {
            int kept = 0;
            for (Finding f : c.findings()) {
                if (!keep.test(c.rule(), f)) {
                    continue;
                }
                kept++;
                violations.add(new Violation(services.newId(), turn.conversation().id(),
                        turn.conversation().organizationId(), turn.conversation().workspaceId(), turn.promptId(),
                        c.rule().id(), f.category(), c.rule().action(), phase, services.clock().instant(),
                        PolicyChecks.excerpt(text, f, all)));
            }
            boolean blocks = PolicyChecks.blocks(c);
            if (kept > 0 || blocks) {
                event(c, phase, kept, blocks);
            }
            if (blocks && found == null) {
                found = new PolicyBlock(c.rule().id(), phase, c.status() == PolicyOutcome.Status.NOT_EVALUATED);
            }
        }
        if (found != null && block == null) {
            block = found;
        }
        return found;
    }

    private void event(PolicyChecks.Checked c, PolicyPhase phase, int findings, boolean blocks) {
        AuditEvent.Type type;
        if (blocks) {
            type = phase == PolicyPhase.PRE ? AuditEvent.Type.PROMPT_BLOCKED : AuditEvent.Type.REPLY_BLOCKED;
        } else {
            type = switch (c.rule().action()) {
                case ALERT -> AuditEvent.Type.ALERT_RAISED;
                case REDACT -> AuditEvent.Type.REDACTED;
                default -> AuditEvent.Type.POLICY_VIOLATION;
            };
        }
        String detail = "rule=" + c.rule().id() + " phase=" + phase + " action=" + c.rule().action()
                + (c.status() == PolicyOutcome.Status.NOT_EVALUATED ? " not-evaluated fail-closed" : " findings=" + findings)
                + " message=" + turn.promptId();
        services.recordWithTurn(new AuditEvent(services.newId(), type, turn.conversation().id(),
                turn.conversation().organizationId(), turn.conversation().workspaceId(), turn.caller().userId(),
                services.clock().instant(), detail));
    }

    /** Adds outcomes in the order the checks ran. */
    public synchronized void outcomes(List<PolicyOutcome> more) {
        outcomes.addAll(more);
    }

    public synchronized List<PolicyOutcome> outcomes() {
        return List.copyOf(outcomes);
    }

    public synchronized List<Violation> violations() {
        return List.copyOf(violations);
    }

    /** The first block recorded, or null. */
    public synchronized PolicyBlock block() {
        return block;
    }
}
