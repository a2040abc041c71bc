package dev.parley.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.SecretsPolicyFactory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.parley.policy.Texts.BASE62;
import static dev.parley.policy.Texts.DIGITS;
import static dev.parley.policy.Texts.UPPER;
import static dev.parley.policy.Texts.check;
import static dev.parley.policy.Texts.findsExactly;
import static dev.parley.policy.Texts.mixed;
import static dev.parley.policy.Texts.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretsPolicyTest {
    private final SecretsPolicy policy = SecretsPolicy.standard();

    static Stream<String> tokens() {
        String b64 = BASE62 + "+/";
        String url = BASE62 + "_-";
        return Stream.of(
                "AKIA" + random(UPPER + "234567", 16),
                "ASIA" + random(UPPER + "234567", 16),
                "AIza" + random(url, 35),
                "ghp_" + random(BASE62, 36),
                "gho_" + random(BASE62, 36),
                "ghs_" + random(BASE62, 36),
                "github_pat_" + random(BASE62, 22) + "_" + random(BASE62, 59),
                "glpat-" + random(url, 20),
                "xoxb-" + random(DIGITS, 12) + "-" + random(DIGITS, 12) + "-" + random(BASE62, 24),
                "xoxp-" + random(BASE62, 30),
                "https://hooks.slack.com/services/T" + random(UPPER + DIGITS, 8) + "/B" + random(UPPER + DIGITS, 10)
                        + "/" + random(BASE62, 24),
                "sk_live_" + random(BASE62, 24),
                "rk_test_" + random(BASE62, 99),
                "sk-" + random(BASE62, 48),
                "sk-proj-" + random(url, 120),
                "sk-svcacct-" + random(url, 40),
                "sk-ant-api03-" + random(url, 93),
                jwt("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
                "-----BEGIN RSA PRIVATE KEY-----\n" + random(b64, 64) + "\n-----END RSA PRIVATE KEY-----",
                "-----BEGIN OPENSSH PRIVATE KEY-----\n" + random(b64, 70) + "\n-----END OPENSSH PRIVATE KEY-----",
                "-----BEGIN PRIVATE KEY-----\n" + random(b64, 64) + "\n-----END PRIVATE KEY-----");
    }

    static String jwt(String header) {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        return e.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + e.encodeToString("{\"sub\":\"1234567890\",\"name\":\"Jo\",\"iat\":1516239022}"
                .getBytes(StandardCharsets.UTF_8)) + "." + random(BASE62 + "_-", 43);
    }

    @ParameterizedTest
    @MethodSource("tokens")
    void findsEachFormatWithItsExactSpan(String token) {
        Finding f = findsExactly(policy, "here it is: ", token, " (keep it safe).");
        assertThat(f.category()).isEqualTo(Finding.SECRET);
        assertThat(f.policyId()).isEqualTo("secrets");
    }

    @ParameterizedTest
    @MethodSource("tokens")
    void findsEachFormatAtTheEdgesOfTheText(String token) {
        findsExactly(policy, "", token, "");
    }

    @Test
    void findsAnAwsSecretKeyAfterItsContext() {
        String key = mixed(BASE62 + "/+", 40);
        Finding f = findsExactly(policy, "aws_secret_access_key = ", key, "\n");
        assertThat(f.reason()).contains("AWS");
        findsExactly(policy, "AWS_SECRET_ACCESS_KEY=", key, "");
    }

    @Test
    void findsAnAzureStorageKeyInAConnectionString() {
        String key = mixed(BASE62 + "+/", 86) + "==";
        findsExactly(policy, "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", key,
                ";EndpointSuffix=core.windows.net");
    }

    @Test
    void findsGenericHighEntropyValuesAfterCredentialWords() {
        String value = mixed(BASE62, 24);
        findsExactly(policy, "password=", value, "");
        findsExactly(policy, "DB_PASSWORD: \"", value, "\"");
        findsExactly(policy, "my api_key => ", value, " ok");
        findsExactly(policy, "auth_token := '", value, "'");
    }

    @Test
    void privateKeyWithoutFooterRunsToTheEndOfTheText() {
        String text = "key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI";
        assertThat(check(policy, text)).singleElement()
                .satisfies(f -> assertThat(f.start()).isEqualTo(5))
                .satisfies(f -> assertThat(f.end()).isEqualTo(text.length()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "The request id is 123e4567-e89b-12d3-a456-426614174000.",
            "Fixed in commit 3f786850e387550fdab836ed7e6dc881de23001b of main.",
            "token = 123e4567-e89b-12d3-a456-426614174000",
            "password = correcthorsebatterystaple",
            "the key to success is patience and perseverance",
            "secret: ${DB_PASSWORD}",
            "api_key=YOUR_API_KEY_HERE",
            "Set token: <paste-your-token-here> in the config",
            "pk_live_" + "abcdefghijklmnopqrstuvwx",
            "version 1.2.3 released on 2024-05-06, order 100200300400",
            "AKIA" + "ABCDEFGHIJKLMNOP1",
            "xAKIA" + "ABCDEFGHIJKLMNOP",
            "sk-" + "abc",
            "eyJub3RhbGciOiJ4In0.eyJzdWIiOiIxIn0.abc",
            "The monkey ate a banana and the donkey watched, token count: 1024.",
            "Use ghp_ tokens with a 36 character suffix."
    })
    void leavesLookAlikesAlone(String text) {
        assertThat(check(policy, text)).isEmpty();
    }

    @Test
    void aGitShaOrHexNearTheWordSecretIsNotAnAwsKey() {
        assertThat(check(policy, "the secret commit 3f786850e387550fdab836ed7e6dc881de23001b")).isEmpty();
    }

    @Test
    void aTokenInsideALongerRunIsNotFound() {
        assertThat(check(policy, "x" + "ghp_" + random(BASE62, 36))).isEmpty();
        assertThat(check(policy, "ghp_" + random(BASE62, 37))).isEmpty();
    }

    @Test
    void findsSeveralSecretsInOrder() {
        String text = "id AKIA" + random(UPPER, 16) + " and ghp_" + random(BASE62, 36);
        assertThat(check(policy, text)).hasSize(2).isSortedAccordingTo(
                java.util.Comparator.comparingInt(Finding::start));
    }

    @Test
    void idCanBeChangedAndIsChecked() {
        assertThat(policy.withId("my.secrets-1").id()).isEqualTo("my.secrets-1");
        assertThatThrownBy(() -> policy.withId("Bad Id")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("id");
        assertThat(policy.maxSpan()).isLessThanOrEqualTo(Policy.DEFAULT_MAX_SPAN).isGreaterThanOrEqualTo(93);
    }

    @Test
    void factoryMakesThePolicyWithTheSpecsId() {
        SecretsPolicyFactory factory = new SecretsPolicyFactory();
        assertThat(factory.kind()).isEqualTo("secrets");
        Policy p = factory.create(PolicySpec.builder("leaks", "secrets").build());
        assertThat(p.id()).isEqualTo("leaks");
        assertThat(check(p, "ghp_" + random(BASE62, 36))).hasSize(1);
        assertThatThrownBy(() -> factory.create(PolicySpec.builder("leaks", "secrets").parameter("x", "1").build()))
                .isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters.x");
    }

    @Test
    void longInputIsCheckedQuickly() {
        String text = "key=".repeat(20_000) + "a".repeat(50_000) + "token: " + "=".repeat(30_000);
        long start = System.nanoTime();
        check(policy, text);
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3_000);
    }
}
