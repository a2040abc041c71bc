package dev.parley.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicySpec;
import dev.parley.policy.internal.SizePolicyFactory;

import org.junit.jupiter.api.Test;

import static dev.parley.policy.DenyListPolicyTest.assertField;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SizePolicyTest {

    @Test
    void aTextOverTheCharacterLimitIsOneFindingSpanningIt() {
        SizePolicy p = SizePolicy.maxChars(10);
        assertThat(p.check(PolicyInput.of(PolicyPhase.PRE, "0123456789"))).isEmpty();
        assertThat(p.check(PolicyInput.of(PolicyPhase.POST, "0123456789A"))).singleElement()
                .satisfies(f -> {
                    assertThat(f.start()).isZero();
                    assertThat(f.end()).isEqualTo(11);
                    assertThat(f.category()).isEqualTo(Finding.SIZE);
                    assertThat(f.policyId()).isEqualTo("size");
                    assertThat(f.reason()).doesNotContain("0123456789A");
                });
    }

    @Test
    void duringAStreamTheCharactersBeforeTheWindowCount() {
        SizePolicy p = SizePolicy.maxChars(100);
        assertThat(p.check(PolicyInput.of(PolicyPhase.DURING, "x".repeat(20)).withOffset(80))).isEmpty();
        assertThat(p.check(PolicyInput.of(PolicyPhase.DURING, "x".repeat(20)).withOffset(90))).singleElement()
                .satisfies(f -> {
                    assertThat(f.start()).isEqualTo(10);
                    assertThat(f.end()).isEqualTo(20);
                });
    }

    @Test
    void tokensAreCountedByTheInputsCounterAtPreAndPost() {
        SizePolicy p = SizePolicy.maxTokens(3);
        PolicyInput four = PolicyInput.of(PolicyPhase.PRE, "a b c d").withTokenCounter(t -> t.split(" ").length);
        assertThat(p.check(four)).singleElement().extracting(Finding::end).isEqualTo(7);
        PolicyInput three = PolicyInput.of(PolicyPhase.POST, "a b c").withTokenCounter(t -> t.split(" ").length);
        assertThat(p.check(three)).isEmpty();
        assertThat(p.check(PolicyInput.of(PolicyPhase.DURING, "a b c d e f g h")
                .withTokenCounter(t -> t.split(" ").length))).isEmpty();
    }

    @Test
    void bothLimitsCanBeSet() {
        SizePolicy p = SizePolicy.builder().maxChars(5).maxTokens(1).id("limits").build();
        assertThat(p.check(PolicyInput.of(PolicyPhase.PRE, "abcdefgh"))).hasSize(2)
                .allSatisfy(f -> assertThat(f.policyId()).isEqualTo("limits"));
        assertThat(p.withId("x").id()).isEqualTo("x");
        assertThat(SizePolicy.maxCharsAndTokens(5, 1).check(PolicyInput.of(PolicyPhase.POST, "abcdefgh")))
                .hasSize(2);
    }

    @Test
    void badLimitsNameTheField() {
        assertField(() -> SizePolicy.maxChars(0), "maxChars");
        assertField(() -> SizePolicy.maxChars(-1), "maxChars");
        assertField(() -> SizePolicy.maxTokens(-5), "maxTokens");
        assertField(() -> SizePolicy.builder().build(), "maxChars");
        assertField(() -> SizePolicy.builder().maxChars(3).maxChars(4), "maxChars");
    }

    @Test
    void factoryReadsTheLimits() {
        SizePolicyFactory factory = new SizePolicyFactory();
        assertThat(factory.kind()).isEqualTo("size");
        SizePolicy p = (SizePolicy) factory.create(PolicySpec.builder("big", "size").parameter("maxChars", "4")
                .parameter("maxTokens", " 2 ").build());
        assertThat(p.id()).isEqualTo("big");
        assertThat(p.maxCharsLimit()).hasValue(4);
        assertThat(p.maxTokensLimit()).hasValue(2);
        for (String[] bad : new String[][] {{"maxChars", "-1"}, {"maxChars", "ten"}, {"maxTokens", "0"},
                {"maxTokens", "99999999999"}, {"maxBytes", "3"}}) {
            assertThatThrownBy(() -> factory.create(PolicySpec.builder("x", "size").parameter(bad[0], bad[1]).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters." + bad[0]);
        }
        assertThatThrownBy(() -> factory.create(PolicySpec.builder("x", "size").build()))
                .isInstanceOf(InvalidRequestException.class);
    }
}
