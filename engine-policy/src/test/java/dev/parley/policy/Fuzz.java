package dev.parley.policy;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.Policy;

import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Random texts glued from fragments (prose, real tokens, near misses, separators, other scripts), for the
 * equivalence tests: a policy's single-pass scan must find exactly what its former regex-per-format version found.
 */
final class Fuzz {
    static final String PROSE = "The support queue was shorter this week. Please send the summary before Thursday;"
            + " we shipped version 4.2.1 on 2026-03-14 and order 48213 is late. Café, naïve, ﬁle, Straße. ";
    static final String[] WORDS = {"the", "key", "token", "secret", "password", "api", "auth", "aws", "azure",
        "storage", "AccountKey", "SharedKey", "monkey", "donkey", "passwd", "pwd", "Token", "SECRET", "API_KEY",
        "é", "中文", "😀", "\u200b", "’", "-", "_", "ghp", "sk", "rk", "eyJ", "AKIA", "AIza", "xoxb", "glpat",
        "github", "hooks.slack.com", "BEGIN", "PRIVATE KEY", "live", "test", "proj", "ant"};
    static final String[] GLUE = {"", "", " ", " ", " ", "\n", "\t", "_", "-", ".", "=", ":", ": ", " = ", "=>",
        ":=", "/", "+", "\"", "'", "`", ",", ";", "(", ")", "x", "0", "==", "é", "\u00a0"};

    final Random random;

    Fuzz(long seed) {
        this.random = new Random(seed);
    }

    String random(String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
    }

    int between(int min, int max) {
        return min + random.nextInt(max - min + 1);
    }

    <T> T pick(T[] items) {
        return items[random.nextInt(items.length)];
    }

    String prose() {
        int a = random.nextInt(PROSE.length());
        return PROSE.substring(a, Math.min(PROSE.length(), a + between(1, 40)));
    }

    /** A text of {@code min} to {@code max} fragments from {@code fragment}, words, prose and glue. */
    String text(int min, int max, Supplier<String> fragment) {
        StringBuilder b = new StringBuilder();
        int n = between(min, max);
        for (int i = 0; i < n; i++) {
            switch (random.nextInt(4)) {
                case 0 -> b.append(prose());
                case 1 -> b.append(pick(WORDS));
                default -> b.append(fragment.get());
            }
            b.append(pick(GLUE));
        }
        return b.toString();
    }

    /** Asserts that both policies find the same on {@code count} texts; how many texts had findings. */
    static int same(Policy legacy, Policy policy, int count, Supplier<String> texts) {
        int found = 0;
        for (int i = 0; i < count; i++) {
            String text = texts.get();
            PolicyInput input = PolicyInput.of(PolicyPhase.POST, text);
            List<Finding> expected = legacy.check(input);
            assertThat(policy.check(input)).as("findings in %s", text).isEqualTo(expected);
            found += expected.isEmpty() ? 0 : 1;
        }
        return found;
    }
}
