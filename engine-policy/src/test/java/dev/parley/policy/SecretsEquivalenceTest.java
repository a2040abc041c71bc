package dev.parley.policy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import org.junit.jupiter.api.Test;

import static dev.parley.policy.Texts.BASE62;
import static dev.parley.policy.Texts.DIGITS;
import static dev.parley.policy.Texts.LOWER;
import static dev.parley.policy.Texts.UPPER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The single-pass {@link SecretsPolicy} finds exactly what its regex-per-format version ({@link
 * LegacySecretsPolicy}) found, on random texts of real tokens, near misses and prose glued together.
 */
class SecretsEquivalenceTest {
    private static final String URL = BASE62 + "_-";
    private static final String B64 = BASE62 + "+/";
    private static final String VALUE = BASE62 + "+/=_.~!@#$%^&*-";

    private final LegacySecretsPolicy legacy = LegacySecretsPolicy.standard();
    private final SecretsPolicy policy = SecretsPolicy.standard();

    /** A token of some format, whole, cut short, run long or with its alphabet bent. */
    private static String token(Fuzz f) {
        String t = switch (f.random.nextInt(22)) {
            case 0 -> f.pick(new String[] {"AKIA", "ASIA", "ABIA", "ACCA", "AKIa"}) + f.random(UPPER + "234567", 16);
            case 1 -> "AIza" + f.random(URL, 35);
            case 2 -> "gh" + f.pick(new String[] {"p", "o", "u", "s", "r", "x"}) + "_" + f.random(BASE62, 36);
            case 3 -> "github_pat_" + f.random(BASE62, 22) + "_" + f.random(BASE62, 59);
            case 4 -> "glpat-" + f.random(URL, f.between(15, 140));
            case 5 -> "xox" + f.pick(new String[] {"b", "a", "p", "r", "s", "q"}) + "-"
                    + f.random(BASE62 + "-", f.between(5, 260));
            case 6 -> "https://hooks.slack.com/services/T" + f.random(UPPER + DIGITS, f.between(4, 16)) + "/B"
                    + f.random(UPPER + DIGITS, f.between(4, 16)) + "/" + f.random(BASE62, f.between(10, 50));
            case 7 -> f.pick(new String[] {"sk", "rk", "pk"}) + "_" + f.pick(new String[] {"live", "test"}) + "_"
                    + f.random(BASE62, f.between(10, 250));
            case 8 -> "sk-ant-" + f.random(URL, f.between(15, 260));
            case 9 -> "sk-" + f.pick(new String[] {"proj", "svcacct", "admin", "other"}) + "-"
                    + f.random(URL, f.between(15, 260));
            case 10 -> "sk-" + f.random(BASE62, f.between(44, 52));
            case 11 -> jwt(f);
            case 12 -> "-----BEGIN " + f.pick(new String[] {"", "RSA ", "EC ", "OPENSSH ", "PGP ", "FOO "})
                    + "PRIVATE KEY" + f.pick(new String[] {"-----", " BLOCK-----", "----"}) + "\n"
                    + f.random(B64, f.between(0, 80))
                    + (f.random.nextBoolean() ? "\n-----END PRIVATE KEY-----" : "");
            case 13 -> f.pick(new String[] {"aws_secret_access_key", "AWS", "secret", "aws", "key"})
                    + f.pick(new String[] {" = ", "=", ": ", " ", "\n"}) + f.random(B64, f.between(38, 42));
            case 14 -> f.pick(new String[] {"AccountKey=", "azure ", "storage: ", "SharedKey ", "key="})
                    + f.random(B64, f.between(84, 88)) + f.pick(new String[] {"==", "=", "", "==="});
            case 15, 16, 17 -> generic(f);
            case 18 -> f.random(VALUE, f.between(10, 60));
            case 19 -> f.random(BASE62, f.between(12, 100));
            case 20 -> "-----BEGIN" + f.random(UPPER + " -", f.between(0, 30));
            default -> f.random(LOWER + DIGITS + "_-.", f.between(1, 30));
        };
        return switch (f.random.nextInt(8)) {
            case 0 -> t.substring(0, f.between(0, t.length()));
            case 1 -> t.substring(f.between(0, t.length()));
            case 2 -> t + f.random(BASE62 + "_-=", 1);
            default -> t;
        };
    }

    private static String generic(Fuzz f) {
        String keyword = f.pick(new String[] {"api_key", "api-key", "apikey", "APIKEY", "secret", "token", "password",
            "passwd", "pwd", "auth", "key", "Key", "DB_PASSWORD", "x_token", "AuthToken", "monkey", "passport"});
        return keyword + f.random(BASE62 + "_.-", f.between(0, 22) / 4 * f.between(0, 1))
                + f.pick(new String[] {"", "\"", "'"}) + f.pick(new String[] {"", " ", "  ", "\t", "    "})
                + f.pick(new String[] {"=", ":", ":=", "=>", "==", " ", "-"})
                + f.pick(new String[] {"", " ", "   ", "\t\t\t\t"}) + f.pick(new String[] {"", "\"", "'", "`"})
                + f.random(f.random.nextBoolean() ? BASE62 : VALUE, f.between(8, 210))
                + f.pick(new String[] {"", "\"", "'", " ", ";", "\n"});
    }

    private static String jwt(Fuzz f) {
        Base64.Encoder e = Base64.getUrlEncoder().withoutPadding();
        String header = f.pick(new String[] {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", "{\"typ\":\"JWT\"}",
            " {\"alg\" : \"none\"}", "[\"alg\":1]", "{\"alg\":\"RS256\"}"});
        return e.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "." + f.random(URL, f.between(0, 60))
                + f.pick(new String[] {".", "", ".."}) + f.random(URL, f.between(0, 50));
    }

    @Test
    void findsWhatTheRegexPerFormatVersionFoundOnTextsOfTokensAndNearMisses() {
        Fuzz f = new Fuzz(7);
        assertThat(Fuzz.same(legacy, policy, 20_000, () -> f.text(1, 12, () -> token(f)))).isGreaterThan(5_000);
    }

    @Test
    void findsWhatTheRegexPerFormatVersionFoundOnTokenSoup() {
        Fuzz f = new Fuzz(11);
        Fuzz.same(legacy, policy, 5_000, () -> f.text(5, 60, () -> f.random(VALUE + " :\"'\n", f.between(1, 50))));
    }

    @Test
    void findsTokensAtTheEdgesNextToPunctuationAndOtherScriptsButNotInsideWords() {
        String key = "AKIA" + "Z7QK4MV2XW5RT6PL";
        for (String before : new String[] {"", " ", "(", "\"", "é", "中", "😀", "\u200b", "=", "/", "-", "_", "x", "7"}) {
            for (String after : new String[] {"", " ", ")", ".", ",", "é", "中", "😀", "\u200b", "\n", "x", "7"}) {
                String text = before + key + after;
                boolean whole = !before.matches("[A-Za-z0-9]") && !after.matches("[A-Za-z0-9]");
                assertThat(check(text)).as(text).hasSize(whole ? 1 : 0)
                        .allSatisfy(x -> assertThat(text.substring(x.start(), x.end())).isEqualTo(key));
            }
        }
    }

    private java.util.List<dev.parley.api.policy.Finding> check(String text) {
        return policy.check(dev.parley.api.policy.PolicyInput.of(dev.parley.api.policy.PolicyPhase.POST, text));
    }

    @Test
    void manyNearMissAnchorsFindNothingAndStayFast() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 200_000; i++) {
            b.append(switch (i % 9) {
                case 0 -> "AKIA ";
                case 1 -> "ghp_short ";
                case 2 -> "sk-abc ";
                case 3 -> "eyJ.x.y ";
                case 4 -> "-----BEGIN PUBLIC KEY----- ";
                case 5 -> "token: short ";
                case 6 -> "key=value ";
                case 7 -> "xoxb-123 ";
                default -> "https://hooks.slack.com/services/T0 ";
            });
        }
        String text = b.toString();
        long start = System.nanoTime();
        assertThat(check(text)).isEmpty();
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(2_000);
    }
}
