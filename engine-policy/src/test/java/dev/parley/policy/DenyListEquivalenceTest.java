package dev.parley.policy;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@link DenyListPolicy} that looks words up without copying them finds exactly what its former version
 * ({@link LegacyDenyListPolicy}) found, on random texts of listed words, phrases, their parts and look-alikes in
 * other cases, widths and scripts.
 */
class DenyListEquivalenceTest {
    private static final String[] WORDS = {"foo", "top secret", "c++", "ﬁle", "straße", "kapı", "top  secret  plan",
        "secret", "x-rated", "café", "日本", "a", "confidential", "internal only", "do not distribute"};
    private static final String[] PARTS = {"foo", "FOO", "ｆｏｏ", "food", "top", "secret", "plan", "c++", "c",
        "file", "ﬁle", "FILE", "strasse", "STRASSE", "Straße", "kapi", "KAPI", "kapı", "x-rated", "X-RATED", "cafe",
        "café", "cafe\u0301", "日本", "日本語", "a", "A", "confidential", "internal", "only", "do", "not",
        "distribute", "\u200b", "\u00ad", "😀", "1", "foo1"};
    private static final String[] GAPS = {" ", " ", "  ", "\n", "\t", "", "-", ".", ",", "\u00a0", "\u2003",
        "                  ", "!", "(", ")"};

    @Test
    void findsWhatTheFormerVersionFoundOnRandomTexts() {
        Fuzz f = new Fuzz(17);
        DenyListPolicy policy = DenyListPolicy.words(WORDS);
        LegacyDenyListPolicy legacy = LegacyDenyListPolicy.words(WORDS);
        int found = Fuzz.same(legacy, policy, 20_000, () -> {
            StringBuilder b = new StringBuilder();
            int n = f.between(1, 20);
            for (int i = 0; i < n; i++) {
                b.append(f.random.nextInt(6) == 0 ? f.prose() : f.pick(PARTS)).append(f.pick(GAPS));
            }
            return b.toString();
        });
        assertThat(found).isGreaterThan(5_000);
    }

    @Test
    void aWordOfSixtyFourOrMoreLettersIsFoundToo() {
        String longWord = "a".repeat(70);
        DenyListPolicy policy = DenyListPolicy.words(longWord, "b".repeat(64) + " c");
        Texts.findsExactly(policy, "x ", longWord.toUpperCase(), ".");
        Texts.findsExactly(policy, "x ", "b".repeat(64) + "  c", "!");
        assertThat(Texts.check(policy, "a".repeat(71))).isEmpty();
    }
}
