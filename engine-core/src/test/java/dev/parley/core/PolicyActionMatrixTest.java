package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.policy.Violation;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static dev.parley.core.GovernanceTest.REDACTED_REPLY;
import static dev.parley.core.GovernanceTest.REPLY;
import static dev.parley.core.GovernanceTest.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every action at every phase, on send and on stream: one rule finds a key in the prompt (PRE) or in the reply
 * (DURING, POST), and the test asserts what the model was asked and how often, what the caller and the listener
 * received, what the history keeps, the violation on record, the alerts handed to the sink and the audit events.
 */
class PolicyActionMatrixTest {
    private static final String PROMPT_WITH_KEY = "store " + SECRET + " for me";
    private static final String REDACTED_PROMPT = "store [REDACTED:SECRET] for me";
    private static final String ASK = "what is my key?";
    private static final String NOTED = "Noted, it is safe with me.";

    private final List<Violation> alerts = new CopyOnWriteArrayList<>();
    private final InMemoryConversationStore store = new InMemoryConversationStore();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    static Stream<Arguments> everyActionPhaseAndMode() {
        List<Arguments> all = new ArrayList<>();
        for (PolicyAction action : PolicyAction.values()) {
            for (PolicyPhase phase : PolicyPhase.values()) {
                all.add(Arguments.of(action, phase, false));
                all.add(Arguments.of(action, phase, true));
            }
        }
        return all.stream();
    }

    private static PolicyRule rule(PolicyAction action, PolicyPhase phase) {
        GovernanceTest.KeyPolicy keys = new GovernanceTest.KeyPolicy();
        return PolicyRule.of(keys, action).phases(phase).build();
    }

    @ParameterizedTest(name = "{0} at {1}, stream={2}")
    @MethodSource("everyActionPhaseAndMode")
    void eachActionAtEachPhaseDoesWhatItSaysToTheModelTheCallerTheHistoryAndTheRecord(
            PolicyAction action, PolicyPhase phase, boolean stream) throws Exception {
        // The key is in the prompt for PRE and in the reply for DURING and POST; the other text is clean.
        ScriptedModel model = ScriptedModel.builder()
                .replyWith(r -> r.messages().get(r.messages().size() - 1).text().equals(ASK) ? REPLY : NOTED)
                .build();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(rule(action, phase))).alertSink(alerts::add).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        boolean pre = phase == PolicyPhase.PRE;
        Prompt prompt = Prompt.text(pre ? PROMPT_WITH_KEY : ASK).id("m-1").build();

        Reply reply = null;
        RuntimeException error = null;
        StreamingTest.Recorder listener = new StreamingTest.Recorder();
        if (stream) {
            assertThat(c.stream(prompt, listener).await(Duration.ofSeconds(30))).as("stream ended").isTrue();
            assertThat(listener.terminalEvents()).isEqualTo(1);
            reply = listener.completions.isEmpty() ? null : listener.completions.get(0);
            error = listener.errors.isEmpty() ? null : listener.errors.get(0);
        } else {
            try {
                reply = c.send(prompt);
            } catch (RuntimeException e) {
                error = e;
            }
        }

        // The model: not called when the prompt is blocked; asked only the redacted prompt under a PRE redact.
        assertThat(model.callCount()).isEqualTo(pre && action == PolicyAction.BLOCK ? 0 : 1);
        if (model.callCount() == 1) {
            String asked = String.join("\n", model.lastRequestTexts());
            if (pre && action == PolicyAction.REDACT) {
                assertThat(asked).contains(REDACTED_PROMPT).doesNotContain(SECRET);
            } else {
                assertThat(asked).contains(prompt.text());
            }
        }

        // The caller.
        String expectedReply = pre ? NOTED : action == PolicyAction.REDACT ? REDACTED_REPLY : REPLY;
        if (action == PolicyAction.BLOCK) {
            assertThat(error).isInstanceOfSatisfying(PolicyBlockedException.class, e -> {
                assertThat(e.phase()).isEqualTo(phase);
                assertThat(e.getMessage()).doesNotContain(SECRET);
            });
            assertThat(reply).isNull();
        } else {
            assertThat(error).isNull();
            assertThat(reply.text()).isEqualTo(expectedReply);
            assertThat(reply.policyOutcomes()).singleElement().satisfies(o -> {
                assertThat(o.phase()).isEqualTo(phase);
                assertThat(o.action()).isEqualTo(action);
                assertThat(o.status()).isEqualTo(PolicyOutcome.Status.FOUND);
                assertThat(o.findings()).isEqualTo(1);
            });
        }

        // The listener: DURING rules hold the key back; a POST rule sees the reply only once it was delivered.
        if (stream) {
            String delivered = listener.text();
            if (pre) {
                assertThat(delivered).isEqualTo(action == PolicyAction.BLOCK ? "" : NOTED);
            } else if (phase == PolicyPhase.DURING && action == PolicyAction.BLOCK) {
                assertThat(REPLY.substring(0, REPLY.indexOf(SECRET))).startsWith(delivered);
            } else if (phase == PolicyPhase.DURING && action == PolicyAction.REDACT) {
                assertThat(delivered).isEqualTo(REDACTED_REPLY);
            } else {
                assertThat(delivered).isEqualTo(REPLY);
            }
        }

        // The history: nothing of a blocked turn; the redacted text under REDACT; the original otherwise.
        List<String> history = c.messages(PageRequest.first()).items().stream().map(Message::text).toList();
        if (action == PolicyAction.BLOCK) {
            assertThat(history).isEmpty();
        } else if (action == PolicyAction.REDACT) {
            assertThat(history).containsExactly(pre ? REDACTED_PROMPT : ASK, expectedReply);
        } else {
            assertThat(history).containsExactly(prompt.text(), expectedReply);
        }

        // The record: one violation of this rule, action and phase, its excerpt masked.
        assertThat(GovernanceTest.StoredViolations.violations(store, c.id())).singleElement().satisfies(v -> {
            assertThat(v.action()).isEqualTo(action);
            assertThat(v.phase()).isEqualTo(phase);
            assertThat(v.ruleId()).isEqualTo("keys");
            assertThat(v.messageId()).isEqualTo("m-1");
            assertThat(v.excerpt()).doesNotContain(SECRET).contains("[SECRET]");
        });
        assertThat(alerts).hasSize(action == PolicyAction.ALERT ? 1 : 0);
        List<AuditEvent.Type> events = store.events(c.id()).stream().map(AuditEvent::type).toList();
        AuditEvent.Type expected = switch (action) {
            case LOG -> AuditEvent.Type.POLICY_VIOLATION;
            case ALERT -> AuditEvent.Type.ALERT_RAISED;
            case BLOCK -> pre ? AuditEvent.Type.PROMPT_BLOCKED : AuditEvent.Type.REPLY_BLOCKED;
            case REDACT -> AuditEvent.Type.REDACTED;
        };
        assertThat(events).contains(expected);
        assertThat(store.events(c.id())).allSatisfy(e -> assertThat(e.detail()).doesNotContain(SECRET));

        // A replay of the id: the same answer, no second model call, no second violation.
        int calls = model.callCount();
        if (action == PolicyAction.BLOCK) {
            assertThatThrownBy(() -> c.send(prompt)).isInstanceOf(PolicyBlockedException.class);
        } else {
            assertThat(c.send(prompt).text()).isEqualTo(expectedReply);
        }
        assertThat(model.callCount()).isEqualTo(calls);
        assertThat(GovernanceTest.StoredViolations.violations(store, c.id())).hasSize(1);
    }
}
