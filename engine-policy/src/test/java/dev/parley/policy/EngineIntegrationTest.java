package dev.parley.policy;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.core.InMemoryConversationStore;
import dev.parley.testing.ScriptedModel;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The policies in a real engine: a judge found by its registered name, and its failure recorded as such. */
class EngineIntegrationTest {
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation(ScriptedModel chat, ScriptedModel judge, PolicyRule... rules) {
        engine = ConversationEngine.builder().store(new InMemoryConversationStore()).model("chat", chat)
                .model("judge", judge).defaultModel("chat").policies(PolicySet.of(rules)).build();
        return engine.as(Caller.user("alice", "org-1").member("ws-1").build())
                .create(NewConversation.inWorkspace("ws-1").modelName("chat").build());
    }

    @Test
    void aJudgeFoundByItsRegisteredNameBlocksWhatItFlags() {
        ScriptedModel chat = ScriptedModel.echo();
        ScriptedModel judge = ScriptedModel.builder().replies("FLAG").build();
        Conversation c = conversation(chat, judge,
                PolicyRule.block(LlmJudgePolicy.using("judge")).phases(PolicyPhase.PRE).build());

        assertThatThrownBy(() -> c.send(Prompt.text("something bad").build()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThat(judge.callCount()).isEqualTo(1);
        assertThat(chat.callCount()).isZero();
    }

    @Test
    void aJudgeThatIsDownIsNotEvaluatedAndTheTurnGoesOn() {
        ScriptedModel chat = ScriptedModel.echo();
        ScriptedModel judge = ScriptedModel.builder().build();
        judge.failNext(new IllegalStateException("judge is down"));
        Conversation c = conversation(chat, judge,
                PolicyRule.block(LlmJudgePolicy.using("judge")).phases(PolicyPhase.PRE).build());

        Reply reply = c.send(Prompt.text("hello").build());

        assertThat(reply.policyOutcomes()).extracting(PolicyOutcome::status)
                .containsOnly(PolicyOutcome.Status.NOT_EVALUATED);
        assertThat(chat.callCount()).isEqualTo(1);
    }

    @Test
    void aSecretInThePromptIsBlockedBeforeTheModelCall() {
        ScriptedModel chat = ScriptedModel.echo();
        Conversation c = conversation(chat, ScriptedModel.echo(),
                PolicyRule.block(SecretsPolicy.standard()).phases(PolicyPhase.PRE).build());

        assertThatThrownBy(() -> c.send(Prompt.text("my key is AKIA" + "ABCDEFGHIJKLMNOP").build()))
                .isInstanceOf(PolicyBlockedException.class).message().doesNotContain("AKIA");
        assertThat(chat.callCount()).isZero();
    }
}
