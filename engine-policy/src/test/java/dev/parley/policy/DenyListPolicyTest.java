package dev.parley.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.DenyListPolicyFactory;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.parley.policy.Texts.check;
import static dev.parley.policy.Texts.findsExactly;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DenyListPolicyTest {
    private final DenyListPolicy policy = DenyListPolicy.words("foo", "top secret", "c++");

    @ParameterizedTest
    @ValueSource(strings = {"foo", "FOO", "Foo", "ｆｏｏ", "ＦＯＯ"})
    void wordsMatchWhateverTheirCaseAndWidth(String written) {
        Finding f = findsExactly(policy, "say ", written, "!");
        assertThat(f.category()).isEqualTo(Finding.DENY_LIST);
        assertThat(f.policyId()).isEqualTo("deny-list");
    }

    @ParameterizedTest
    @ValueSource(strings = {"food", "foobar", "afoo", "foo1", "ｆｏｏd", "c", "top", "secret"})
    void wordsMatchOnlyWhole(String text) {
        assertThat(check(policy, "a " + text + " b")).isEmpty();
    }

    @Test
    void wordsMatchNextToPunctuationAndAtTheEdges() {
        assertThat(check(policy, "foo")).hasSize(1);
        assertThat(check(policy, "(foo)-foo.")).hasSize(2);
        findsExactly(policy, "I like ", "c++", " a lot");
    }

    @Test
    void phrasesMatchWithFlexibleWhitespace() {
        findsExactly(policy, "this is ", "TOP   secret", ".");
        findsExactly(policy, "this is ", "top\n\tsecret", ".");
        assertThat(check(policy, "top-secret")).isEmpty();
    }

    @Test
    void spansAreOfTheOriginalTextWhereFoldingChangesLengths() {
        DenyListPolicy fi = DenyListPolicy.words("file");
        // the ligature is one character folding to two
        findsExactly(fi, "a ﬁne ", "ﬁle", " here");
        String text = "ﬁﬁ ﬁle ｆｏｏ foo";
        List<Finding> found = check(DenyListPolicy.words("file", "foo"), text);
        assertThat(found).extracting(f -> text.substring(f.start(), f.end()))
                .containsExactly("ﬁle", "ｆｏｏ", "foo");
    }

    @Test
    void patternsMatchCaseInsensitivelyOnTheFoldedText() {
        DenyListPolicy p = DenyListPolicy.patterns("project\\s+x\\d{2}");
        findsExactly(p, "about ", "PROJECT  Ｘ42", " today");
        assertThat(check(p, "projectx42")).isEmpty();
    }

    @Test
    void reasonsNameTheEntryNotTheWord() {
        for (Finding f : check(DenyListPolicy.builder().words(List.of("banana")).patterns(List.of("kiwi\\d"))
                .build(), "banana kiwi7")) {
            assertThat(f.reason()).doesNotContain("banana").doesNotContain("kiwi");
        }
    }

    @Test
    void builderSetsAnId() {
        DenyListPolicy p = DenyListPolicy.builder().id("brand-words").words(List.of("acme")).build();
        assertThat(p.id()).isEqualTo("brand-words");
        assertThat(check(p, "ACME rocks")).singleElement().extracting(Finding::policyId).isEqualTo("brand-words");
        assertThat(policy.withId("other").id()).isEqualTo("other");
        assertThat(policy.maxSpan()).isBetween(1, Policy.DEFAULT_MAX_SPAN);
    }

    @Test
    void badConfigurationNamesTheField() {
        assertField(() -> DenyListPolicy.words(), "words");
        assertField(() -> DenyListPolicy.words("ok", " "), "words");
        assertField(() -> DenyListPolicy.patterns("(unclosed"), "patterns");
        assertField(() -> DenyListPolicy.patterns("a?"), "patterns");
        assertField(() -> DenyListPolicy.patterns(".*"), "patterns");
        assertField(() -> DenyListPolicy.builder().build(), "words");
        assertField(() -> DenyListPolicy.builder().id("No"), "id");
        assertThatThrownBy(() -> DenyListPolicy.patterns("ok", "(bad")).hasMessageContaining("1");
    }

    @Test
    void factoryReadsWordsAndPatterns() {
        DenyListPolicyFactory factory = new DenyListPolicyFactory();
        assertThat(factory.kind()).isEqualTo("deny-list");
        Policy p = factory.create(PolicySpec.builder("my-id", "deny-list").parameter("words", "foo,bar\nbaz qux")
                .parameter("patterns", "ticket-\\d+\nsecret\\w*").build());
        assertThat(p.id()).isEqualTo("my-id");
        assertThat(check(p, "FOO and Bar and baz  qux, ticket-12 and secrets")).hasSize(5);
        assertThat(check(p, "food")).isEmpty();
        assertFactoryField(factory, "words", " , ");
        assertFactoryField(factory, "patterns", "(x");
        assertFactoryField(factory, "patterns", "x*");
        assertFactoryField(factory, "colour", "x");
        assertThatThrownBy(() -> factory.create(PolicySpec.builder("x", "deny-list").build()))
                .isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters.words");
    }

    static void assertFactoryField(DenyListPolicyFactory factory, String name, String value) {
        assertThatThrownBy(() -> factory.create(PolicySpec.builder("x", "deny-list").parameter(name, value).build()))
                .isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters." + name);
    }

    static void assertField(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String field) {
        assertThatThrownBy(call).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo(field);
    }
}
