package dev.parley.policy;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.Policy;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Test texts and checks shared by the policies' tests. */
final class Texts {
    static final String UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    static final String LOWER = "abcdefghijklmnopqrstuvwxyz";
    static final String DIGITS = "0123456789";
    static final String BASE62 = UPPER + LOWER + DIGITS;

    private static final Random RANDOM = new Random(20261202L);

    private Texts() {
    }

    static synchronized String random(String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(RANDOM.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    /** Random base62 with at least one upper, lower and digit. */
    static String mixed(String alphabet, int length) {
        while (true) {
            String s = random(alphabet, length);
            if (s.chars().anyMatch(Character::isUpperCase) && s.chars().anyMatch(Character::isLowerCase)
                    && s.chars().anyMatch(Character::isDigit)) {
                return s;
            }
        }
    }

    static List<Finding> check(Policy policy, String text) {
        List<Finding> findings = policy.check(PolicyInput.of(PolicyPhase.POST, text));
        for (Finding f : findings) {
            assertThat(f.policyId()).isEqualTo(policy.id());
            assertThat(f.end()).isLessThanOrEqualTo(text.length());
            String matched = text.substring(f.start(), f.end());
            if (!matched.isBlank()) {
                assertThat(f.reason()).as("reason must not quote the match").doesNotContain(matched.strip());
            }
        }
        return findings;
    }

    /** The one finding of {@code secret} embedded in a sentence, spanning it exactly. */
    static Finding findsExactly(Policy policy, String before, String secret, String after) {
        String text = before + secret + after;
        List<Finding> findings = check(policy, text);
        assertThat(findings).as("findings in %s", text).hasSize(1);
        Finding f = findings.get(0);
        assertThat(text.substring(f.start(), f.end())).isEqualTo(secret);
        return f;
    }
}
