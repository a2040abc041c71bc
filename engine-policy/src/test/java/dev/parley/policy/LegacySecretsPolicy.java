package dev.parley.policy;

// The regex-per-format SecretsPolicy as it was before its single-pass scan, kept unchanged as the oracle of
// SecretsEquivalenceTest: the new scan must find exactly what this finds.

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.Entropy;
import dev.parley.policy.internal.Ids;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds credentials by their real formats, each as a {@link Finding#SECRET} whose reason names the format, never
 * the key. Immutable and thread safe; every pattern is precompiled and bounded.
 *
 * <p>Detects:
 * <ul>
 *   <li>AWS access key ids {@code (AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}}, and AWS secret access keys: 40 characters of
 *       {@code [A-Za-z0-9/+]} with upper case, lower case and a digit, within 48 characters after "aws" or
 *       "secret";</li>
 *   <li>Google API keys {@code AIza[0-9A-Za-z_-]{35}};</li>
 *   <li>Azure storage account keys: 88 characters of base64 ending {@code ==}, within 64 characters after
 *       "AccountKey", "azure", "storage" or "SharedKey";</li>
 *   <li>GitHub tokens {@code gh[pousr]_} + 36 and fine-grained {@code github_pat_} + 22 + {@code _} + 59; GitLab
 *       personal tokens {@code glpat-}; Slack tokens {@code xox[baprs]-} and incoming-webhook URLs; Stripe secret
 *       and restricted keys {@code (sk|rk)_(live|test)_}; OpenAI keys ({@code sk-} + 48, and {@code sk-proj-},
 *       {@code sk-svcacct-}, {@code sk-admin-}); Anthropic keys {@code sk-ant-};</li>
 *   <li>JSON Web Tokens: three base64url parts, the first decoding to a JSON object with {@code "alg"};</li>
 *   <li>private keys by their PEM header ({@code -----BEGIN ... PRIVATE KEY-----}, OpenSSH, PGP): the finding runs
 *       to the matching footer, or to the end of the text when the footer is not in it;</li>
 *   <li>generic secrets: a value of 16 to 200 characters, with a letter and a digit and a Shannon
 *       entropy of at least {@value #GENERIC_MIN_ENTROPY} bits per character, after {@code key}, {@code secret},
 *       {@code token}, {@code password}, {@code passwd}, {@code pwd}, {@code api_key}, {@code apikey} or
 *       {@code auth} (in any case, possibly inside a longer name such as {@code DB_PASSWORD}) and {@code =},
 *       {@code :}, {@code :=} or {@code =>}.</li>
 * </ul>
 * A token counts only when it is not part of a longer run of letters and digits.
 *
 * <p>Does not detect: Stripe publishable keys ({@code pk_live_}, {@code pk_test_}, public by design); UUIDs; git
 * commit hashes; AWS secret keys or Azure keys without their context word; passwords of low entropy, without a digit
 * (so that placeholders such as {@code YOUR_API_KEY_HERE} are not found) or without a keyword before them;
 * secrets split across lines or encoded. In a stream, a token longer than
 * {@link #maxSpan()} (a long JWT) is found only when a window holds it whole; a private key always is, by its
 * header.
 */
public final class LegacySecretsPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "secrets";
    /** The least Shannon entropy, in bits per character, of a generic secret's value. */
    public static final double GENERIC_MIN_ENTROPY = 3.0;
    /** The longest span this policy needs whole: an Azure key with its context, a fine-grained GitHub token. */
    public static final int MAX_SPAN = 256;

    private static final String B = "(?<![A-Za-z0-9])";
    private static final String E = "(?![A-Za-z0-9])";
    private static final String E_DASH = "(?![A-Za-z0-9_-])";

    private record Format(String reason, Pattern pattern, String[] hints) {
    }

    private static final List<Format> FORMATS = List.of(
            format("AWS access key id", B + "(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}" + E,
                    "AKIA", "ASIA", "ABIA", "ACCA"),
            format("Google API key", B + "AIza[0-9A-Za-z_-]{35}" + E_DASH, "AIza"),
            format("GitHub token", B + "gh[pousr]_[A-Za-z0-9]{36}" + E, "gh"),
            format("GitHub fine-grained token", B + "github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}" + E, "github_pat_"),
            format("GitLab personal access token", B + "glpat-[A-Za-z0-9_-]{20,128}+" + E_DASH, "glpat-"),
            format("Slack token", B + "xox[baprs]-[A-Za-z0-9-]{10,250}+" + "(?![A-Za-z0-9-])", "xox"),
            format("Slack webhook URL",
                    "https://hooks\\.slack\\.com/services/T[A-Z0-9]{6,14}+/B[A-Z0-9]{6,14}+/[A-Za-z0-9]{16,48}+" + E,
                    "hooks.slack.com"),
            format("Stripe secret key", B + "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}+" + E, "_live_", "_test_"),
            format("Anthropic API key", B + "sk-ant-[A-Za-z0-9_-]{20,250}+" + E_DASH, "sk-ant-"),
            format("OpenAI API key", B + "sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,250}+" + E_DASH, "sk-"),
            format("OpenAI API key", B + "sk-[A-Za-z0-9]{48}" + E_DASH, "sk-"));

    private static final Pattern JWT = Pattern.compile(
            "(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,4096}+\\.[A-Za-z0-9_-]{2,8192}+\\.[A-Za-z0-9_-]{0,4096}+"
                    + "(?![A-Za-z0-9_.-])");
    private static final Pattern PEM_BEGIN = Pattern.compile(
            "-----BEGIN (?:(RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP) )?PRIVATE KEY(?: BLOCK)?-----");
    private static final Pattern AWS_SECRET = Pattern.compile("(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])");
    private static final Pattern AWS_CONTEXT = Pattern.compile("(?i)aws|secret");
    private static final Pattern AZURE_KEY = Pattern.compile(
            "(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])");
    private static final Pattern AZURE_CONTEXT = Pattern.compile("(?i)accountkey|azure|storage|sharedkey");
    private static final Pattern GENERIC = Pattern.compile(
            "(?i)(?:api[_-]?key|apikey|secret|token|password|passwd|pwd|auth|key)[A-Za-z0-9_.-]{0,20}+"
                    + "[\"']?[ \\t]{0,3}+(?::=|=>|[:=])[ \\t]{0,3}+[\"'`]?"
                    + "([A-Za-z0-9+/=_.~!@#$%^&*-]{16,200}+)(?![A-Za-z0-9+/=_.~!@#$%^&*-])");
    private static final Pattern GENERIC_WORD = Pattern.compile("(?i)key|secret|token|passw|pwd|auth");
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern ALG = Pattern.compile("\"alg\"\\s*:");

    private final String id;

    private LegacySecretsPolicy(String id) {
        this.id = id;
    }

    /** Every format above, with id {@value #DEFAULT_ID}. */
    public static LegacySecretsPolicy standard() {
        return new LegacySecretsPolicy(DEFAULT_ID);
    }

    /**
     * This policy with another id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9,
     *         '.', '_', '-'
     */
    public LegacySecretsPolicy withId(String newId) {
        return new LegacySecretsPolicy(Ids.check(newId));
    }

    private static Format format(String reason, String regex, String... hints) {
        return new Format(reason, Pattern.compile(regex), hints);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxSpan() {
        return MAX_SPAN;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        String text = input.text();
        List<Finding> found = new ArrayList<>();
        for (Format f : FORMATS) {
            if (!hinted(text, f.hints())) {
                continue;
            }
            Matcher m = f.pattern().matcher(text);
            while (m.find()) {
                add(found, m.start(), m.end(), f.reason());
            }
        }
        if (text.contains("eyJ")) {
            Matcher m = JWT.matcher(text);
            while (m.find()) {
                if (isJwtHeader(text.substring(m.start(), text.indexOf('.', m.start())))) {
                    add(found, m.start(), m.end(), "JSON Web Token");
                }
            }
        }
        if (text.contains("PRIVATE KEY")) {
            Matcher m = PEM_BEGIN.matcher(text);
            while (m.find()) {
                String kind = m.group(1);
                String footer = m.group().replace("BEGIN", "END");
                int end = text.indexOf(footer, m.end());
                add(found, m.start(), end < 0 ? text.length() : end + footer.length(),
                        (kind == null ? "" : kind + " ") + "private key");
            }
        }
        contextual(text, found, AWS_SECRET, AWS_CONTEXT, 48, "AWS secret access key");
        contextual(text, found, AZURE_KEY, AZURE_CONTEXT, 64, "Azure storage account key");
        Matcher m = GENERIC.matcher(text);
        boolean worded = hasCredentialWord(text);
        while (worded && m.find()) {
            String value = m.group(1);
            if (isGenericSecret(value)) {
                add(found, m.start(1), m.end(1), "high-entropy value after a credential keyword");
            }
        }
        found.sort(Comparator.comparingInt(Finding::start).thenComparingInt(Finding::end));
        return found;
    }

    /** Whether the text holds a word the generic pattern starts with, in any case. */
    private static boolean hasCredentialWord(String text) {
        return GENERIC_WORD.matcher(text).find();
    }

    private static boolean hinted(String text, String[] hints) {
        for (String h : hints) {
            if (text.contains(h)) {
                return true;
            }
        }
        return false;
    }

    private void contextual(String text, List<Finding> found, Pattern candidate, Pattern context, int before,
                            String reason) {
        if (!context.matcher(text).find()) {
            return; // no context word anywhere: no candidate can have one before it
        }
        Matcher m = candidate.matcher(text);
        while (m.find()) {
            if (!mixed(text, m.start(), m.end())) {
                continue;
            }
            Matcher c = context.matcher(text).region(Math.max(0, m.start() - before), m.start());
            if (c.find()) {
                add(found, m.start(), m.end(), reason);
            }
        }
    }

    /** Upper case, lower case and a digit: what random base64 almost always has, and hashes and words do not. */
    private static boolean mixed(String text, int start, int end) {
        boolean upper = false;
        boolean lower = false;
        boolean digit = false;
        for (int i = start; i < end; i++) {
            char ch = text.charAt(i);
            upper |= ch >= 'A' && ch <= 'Z';
            lower |= ch >= 'a' && ch <= 'z';
            digit |= ch >= '0' && ch <= '9';
        }
        return upper && lower && digit;
    }

    private static boolean isGenericSecret(String value) {
        if (UUID.matcher(value).matches()) {
            return false;
        }
        boolean letter = false;
        boolean digit = false;
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            letter |= Character.isLetter(ch);
            digit |= ch >= '0' && ch <= '9';
        }
        return letter && digit && Entropy.bitsPerChar(value) >= GENERIC_MIN_ENTROPY;
    }

    private static boolean isJwtHeader(String part) {
        try {
            String json = new String(Base64.getUrlDecoder().decode(part.replace("=", "")), StandardCharsets.UTF_8);
            return json.trim().startsWith("{") && ALG.matcher(json).find();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Adds a finding unless an earlier (more specific) one overlaps it. */
    private void add(List<Finding> found, int start, int end, String reason) {
        for (Finding f : found) {
            if (start < f.end() && f.start() < end) {
                return;
            }
        }
        found.add(new Finding(start, end, Finding.SECRET, id, reason));
    }

    @Override
    public String toString() {
        return "LegacySecretsPolicy{id=" + id + "}";
    }
}
