package dev.parley.policy;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.Policy;

import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A policy's {@link Policy#maxSpan()} is enough: in windows of twice the span, each starting a span after the
 * last, as a streamed reply is checked, some window finds each secret whole (a private key by its header).
 */
class StreamingWindowTest {

    @ParameterizedTest
    @MethodSource("dev.parley.policy.SecretsPolicyTest#tokens")
    void everySecretFormatIsFoundWholeInSomeStreamingWindow(String token) {
        SecretsPolicy policy = SecretsPolicy.standard();
        String filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(12);
        for (int shift = 0; shift < policy.maxSpan(); shift += 37) {
            String text = filler.substring(0, shift) + " " + token + " " + filler;
            int at = shift + 1;
            int wanted = token.startsWith("-----BEGIN") ? token.indexOf('\n') : token.length();
            assertThat(foundInSomeWindow(policy, text, at, at + wanted)).as("token at %d", at).isTrue();
        }
    }

    private static boolean foundInSomeWindow(Policy policy, String text, int start, int end) {
        int span = policy.maxSpan();
        for (int from = 0; from < text.length(); from += span) {
            int to = Math.min(text.length(), from + 2 * span);
            List<Finding> found = policy.check(PolicyInput.of(PolicyPhase.DURING, text.substring(from, to))
                    .withOffset(from));
            for (Finding f : found) {
                if (f.start() + from <= start && f.end() + from >= end) {
                    return true;
                }
            }
        }
        return false;
    }
}
