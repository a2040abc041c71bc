package dev.parley.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.values.ModelMessage;
import dev.parley.policy.internal.LlmJudgePolicyFactory;
import dev.parley.testing.ScriptedModel;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlmJudgePolicyTest {
    private static final String TEXT = "please tell me how to bake bread";

    @Test
    void allowIsNoFinding() {
        ScriptedModel model = ScriptedModel.builder().replies("ALLOW").build();
        assertThat(LlmJudgePolicy.using(model).check(PolicyInput.of(PolicyPhase.PRE, TEXT))).isEmpty();
        assertThat(model.lastRequest().messages()).extracting(ModelMessage::role)
                .containsExactly(ModelMessage.Role.SYSTEM, ModelMessage.Role.USER);
        assertThat(model.lastRequestTexts().get(0)).isEqualTo(LlmJudgePolicy.SYSTEM_PROMPT);
        assertThat(model.lastRequestTexts().get(1)).contains(TEXT).startsWith("<text>").endsWith("</text>");
    }

    @Test
    void flagIsOneFindingSpanningTheText() {
        ScriptedModel model = ScriptedModel.builder().replies("FLAG\nit asks for something bad").build();
        List<Finding> found = LlmJudgePolicy.using(model).withId("judge").check(PolicyInput.of(PolicyPhase.POST, TEXT));
        assertThat(found).singleElement().satisfies(f -> {
            assertThat(f.start()).isZero();
            assertThat(f.end()).isEqualTo(TEXT.length());
            assertThat(f.category()).isEqualTo(Finding.JUDGE);
            assertThat(f.policyId()).isEqualTo("judge");
            assertThat(f.reason()).doesNotContain(TEXT);
        });
    }

    @Test
    void aCheckWithoutDeadlineWaitsForTheVerdict() {
        ScriptedModel model = ScriptedModel.builder().latency(Duration.ofMillis(50)).replies("FLAG").build();
        PolicyInput noDeadline = PolicyInput.of(PolicyPhase.POST, TEXT);
        assertThat(noDeadline.remaining()).isGreaterThan(Duration.ofDays(365));
        assertThat(LlmJudgePolicy.using(model).check(noDeadline)).hasSize(1);
    }

    @Test
    void verdictsAreReadLeniently() {
        ScriptedModel model = ScriptedModel.builder().replies("  **flag**.", "\nAllow\n", "Verdict: FLAG").build();
        LlmJudgePolicy judge = LlmJudgePolicy.using(model);
        assertThat(judge.check(PolicyInput.of(PolicyPhase.PRE, TEXT))).hasSize(1);
        assertThat(judge.check(PolicyInput.of(PolicyPhase.PRE, TEXT))).isEmpty();
        assertThat(judge.check(PolicyInput.of(PolicyPhase.PRE, TEXT))).hasSize(1);
    }

    @Test
    void anAnswerThatIsNoVerdictThrows() {
        ScriptedModel model = ScriptedModel.builder().replies("I think it is fine, " + TEXT).build();
        assertThatThrownBy(() -> LlmJudgePolicy.using(model).check(PolicyInput.of(PolicyPhase.PRE, TEXT)))
                .isInstanceOf(IllegalStateException.class).message().doesNotContain(TEXT);
    }

    @Test
    void aJudgeThatIsDownMakesTheCheckThrowWithoutTheText() {
        ScriptedModel model = ScriptedModel.builder().build();
        model.failNext(new IllegalStateException("upstream said no to: " + TEXT));
        assertThatThrownBy(() -> LlmJudgePolicy.using(model).check(PolicyInput.of(PolicyPhase.PRE, TEXT)))
                .isInstanceOf(IllegalStateException.class).message().doesNotContain(TEXT).contains("llm-judge");
    }

    @Test
    void aJudgeSlowerThanTheBudgetThrowsInAboutTheBudget() {
        ScriptedModel model = ScriptedModel.builder().latency(Duration.ofSeconds(5)).replies("ALLOW").build();
        long start = System.nanoTime();
        assertThatThrownBy(() -> LlmJudgePolicy.using(model)
                .check(PolicyInput.of(PolicyPhase.PRE, TEXT).withBudget(Duration.ofMillis(200))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("budget");
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(millis).isBetween(150L, 1_500L);
    }

    @Test
    void aRegisteredModelNeedsTheEnginesServices() {
        assertThatThrownBy(() -> LlmJudgePolicy.using("judge-model").check(PolicyInput.of(PolicyPhase.PRE, TEXT)))
                .isInstanceOf(IllegalStateException.class).message().doesNotContain(TEXT);
        assertThat(LlmJudgePolicy.using("judge-model").check(PolicyInput.of(PolicyPhase.PRE, " "))).isEmpty();
    }

    @Test
    void factoryNeedsAModel() {
        LlmJudgePolicyFactory factory = new LlmJudgePolicyFactory();
        assertThat(factory.kind()).isEqualTo("llm-judge");
        assertThat(factory.create(PolicySpec.builder("j", "llm-judge").parameter("model", "judge").build()).id())
                .isEqualTo("j");
        assertThatThrownBy(() -> factory.create(PolicySpec.builder("j", "llm-judge").build()))
                .isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters.model");
        assertThatThrownBy(() -> LlmJudgePolicy.using("x").withId("BAD"))
                .isInstanceOf(InvalidRequestException.class);
    }
}
