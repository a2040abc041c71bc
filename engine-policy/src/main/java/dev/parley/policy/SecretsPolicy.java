package dev.parley.policy;

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

import org.jspecify.annotations.Nullable;

/**
 * Finds credentials by their real formats, each as a {@link Finding#SECRET} whose reason names the format, never
 * the key. Immutable and thread safe; every pattern is precompiled and bounded.
 *
 * <p>One pass over the text finds the runs of token characters (letters, digits, {@code +/=_.~!@#$%^&*-}) at least
 * 12 long, the length of the shortest token; each format's pattern is tried only at its prefix in such a run (a
 * generic secret's within 40 characters before its value), and a webhook URL's or PEM header's only where its
 * literal start is. Prose, whose words are shorter, is read once and matched against nothing.
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
public final class SecretsPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "secrets";
    /** The least Shannon entropy, in bits per character, of a generic secret's value. */
    public static final double GENERIC_MIN_ENTROPY = 3.0;
    /** The longest span this policy needs whole: an Azure key with its context, a fine-grained GitHub token. */
    public static final int MAX_SPAN = 256;

    private static final String B = "(?<![A-Za-z0-9])";
    private static final String E = "(?![A-Za-z0-9])";
    private static final String E_DASH = "(?![A-Za-z0-9_-])";

    private record Format(String reason, Pattern pattern) {
    }

    private static final List<Format> FORMATS = List.of(
            format("AWS access key id", B + "(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}" + E),
            format("Google API key", B + "AIza[0-9A-Za-z_-]{35}" + E_DASH),
            format("GitHub token", B + "gh[pousr]_[A-Za-z0-9]{36}" + E),
            format("GitHub fine-grained token", B + "github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}" + E),
            format("GitLab personal access token", B + "glpat-[A-Za-z0-9_-]{20,128}+" + E_DASH),
            format("Slack token", B + "xox[baprs]-[A-Za-z0-9-]{10,250}+" + "(?![A-Za-z0-9-])"),
            format("Slack webhook URL",
                    "https://hooks\\.slack\\.com/services/T[A-Z0-9]{6,14}+/B[A-Z0-9]{6,14}+/[A-Za-z0-9]{16,48}+" + E),
            format("Stripe secret key", B + "(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,247}+" + E),
            format("Anthropic API key", B + "sk-ant-[A-Za-z0-9_-]{20,250}+" + E_DASH),
            format("OpenAI API key", B + "sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,250}+" + E_DASH),
            format("OpenAI API key", B + "sk-[A-Za-z0-9]{48}" + E_DASH));

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
    /**
     * The characters of every format's tokens and of a generic value: letters, digits and {@code +/=_.~!@#$%^&*-}.
     * Each format's match (after a webhook URL's and a PEM header's literal start) is a run of them.
     */
    private static final boolean[] TOKEN_CHAR = new boolean[128];
    /** The shortest match of any format in a run: a JWT, {@code eyJ} + 5 + {@code .} + 2 + {@code .}. */
    private static final int MIN_RUN = 12;
    /** How far before its value a generic secret's keyword may start: 8 + 20 + 1 + 3 + 2 + 3 + 1 characters. */
    private static final int GENERIC_REACH = 40;
    private static final String SLACK_WEBHOOK_START = "https://hooks.slack.com/services/T";
    private static final int SLACK_WEBHOOK_INDEX = 6;
    private static final Pattern SLACK_WEBHOOK = FORMATS.get(SLACK_WEBHOOK_INDEX).pattern();
    private static final String PEM_START = "-----BEGIN ";

    static {
        for (char ch = 0; ch < 128; ch++) {
            TOKEN_CHAR[ch] = isAlnum(ch) || "+/=_.~!@#$%^&*-".indexOf(ch) >= 0;
        }
    }
    private static final Pattern UUID = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern ALG = Pattern.compile("\"alg\"\\s*:");

    private final String id;

    private SecretsPolicy(String id) {
        this.id = id;
    }

    /** Every format above, with id {@value #DEFAULT_ID}. */
    public static SecretsPolicy standard() {
        return new SecretsPolicy(DEFAULT_ID);
    }

    /**
     * This policy with another id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9,
     *         '.', '_', '-'
     */
    public SecretsPolicy withId(String newId) {
        return new SecretsPolicy(Ids.check(newId));
    }

    private static Format format(String reason, String regex) {
        return new Format(reason, Pattern.compile(regex));
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
        Scan scan = new Scan(text);
        int n = text.length();
        int run = 0;
        for (int i = 0; i < n; i++) {
            char ch = text.charAt(i);
            if (ch < 128 && TOKEN_CHAR[ch]) {
                if (++run == MIN_RUN) {
                    int start = i - MIN_RUN + 1;
                    int end = i + 1;
                    while (end < n && isTokenChar(text.charAt(end))) {
                        end++;
                    }
                    scan.run(start, end);
                    i = end; // text[end] is not a token character (or the end): the next run starts after it
                    run = 0;
                }
            } else {
                run = 0;
            }
        }
        scan.literal(SLACK_WEBHOOK, SLACK_WEBHOOK_START, SLACK_WEBHOOK_INDEX);
        scan.privateKeys();
        if (scan.candidates.isEmpty()) {
            return List.of();
        }
        // each kind in the order of its priority, so that a more specific finding wins where two overlap
        scan.candidates.sort(Comparator.comparingInt(Candidate::priority));
        List<Finding> found = new ArrayList<>();
        for (Candidate c : scan.candidates) {
            add(found, c.start(), c.end(), c.reason());
        }
        found.sort(Comparator.comparingInt(Finding::start).thenComparingInt(Finding::end));
        return found;
    }

    private static boolean isTokenChar(char ch) {
        return ch < 128 && TOKEN_CHAR[ch];
    }

    private static boolean isAlnum(char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    }

    /** Whether {@code text} holds {@code word} at {@code at}, in any ASCII case (as the patterns' {@code (?i)}). */
    private static boolean hasWordAt(String text, int at, String word) {
        if (at < 0 || at + word.length() > text.length()) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            char ch = text.charAt(at + k);
            if (ch >= 'A' && ch <= 'Z') {
                ch = (char) (ch + 32);
            }
            if (ch != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** A match of one kind, found in the pass, before the overlaps between kinds are settled. */
    private record Candidate(int priority, int start, int end, String reason) {
    }

    /**
     * One check's candidates. Every format's match is a run of token characters (or, for a webhook URL and a
     * private key header, starts with a literal): each pattern is tried only where such a run or literal is, and
     * from where its last match ended, so that it finds what a search of the whole text finds.
     */
    private static final class Scan {
        private final String text;
        private final List<Candidate> candidates = new ArrayList<>(4);
        private final Matcher[] matchers = new Matcher[FORMATS.size()];
        /** Per format: where its previous match ended; a search resumes there. */
        private final int[] from = new int[FORMATS.size()];
        private int jwtFrom;
        private int genericFrom;
        private int genericTried;
        private int awsContext = -1;
        private int azureContext = -1;
        private @Nullable Matcher jwt;
        private @Nullable Matcher generic;

        Scan(String text) {
            this.text = text;
        }

        /** A maximal run {@code [start, end)} of token characters, at least 12 long. */
        void run(int start, int end) {
            for (int p = start; p < end; p++) {
                if (p == start || !isAlnum(text.charAt(p - 1))) {
                    tokensAt(p);
                }
            }
            if (end - start >= 40) {
                contextual(start, end, AWS_SECRET, true, 48, "AWS secret access key", FORMATS.size() + 2);
            }
            if (end - start >= 88) {
                contextual(start, end, AZURE_KEY, false, 64, "Azure storage account key", FORMATS.size() + 3);
            }
            if (end - start >= 16) {
                generic(start, end);
            }
        }

        /** The formats whose prefix is at {@code p}, where no letter or digit is before it. */
        private void tokensAt(int p) {
            switch (text.charAt(p)) {
                case 'A' -> {
                    if (text.startsWith("AKIA", p) || text.startsWith("ASIA", p) || text.startsWith("ABIA", p)
                            || text.startsWith("ACCA", p)) {
                        format(0, p);
                    } else if (text.startsWith("AIza", p)) {
                        format(1, p);
                    }
                }
                case 'g' -> {
                    if (text.startsWith("github_pat_", p)) {
                        format(3, p);
                    } else if (text.startsWith("glpat-", p)) {
                        format(4, p);
                    } else if (text.startsWith("gh", p)) {
                        format(2, p);
                    }
                }
                case 'x' -> {
                    if (text.startsWith("xox", p)) {
                        format(5, p);
                    }
                }
                case 'r' -> {
                    if (text.startsWith("rk_", p)) {
                        format(7, p);
                    }
                }
                case 's' -> {
                    if (text.startsWith("sk_", p)) {
                        format(7, p);
                    } else if (text.startsWith("sk-", p)) {
                        if (text.startsWith("sk-ant-", p)) {
                            format(8, p);
                        }
                        format(9, p);
                        format(10, p);
                    }
                }
                case 'e' -> {
                    if (text.startsWith("eyJ", p)) {
                        jwtAt(p);
                    }
                }
                default -> {
                }
            }
        }

        private void format(int index, int p) {
            if (p < from[index]) {
                return;
            }
            Matcher m = matcher(index);
            m.region(p, text.length());
            if (m.lookingAt()) {
                candidates.add(new Candidate(index, m.start(), m.end(), FORMATS.get(index).reason()));
                from[index] = m.end();
            }
        }

        private Matcher matcher(int index) {
            Matcher m = matchers[index];
            if (m == null) {
                m = FORMATS.get(index).pattern().matcher(text).useTransparentBounds(true);
                matchers[index] = m;
            }
            return m;
        }

        private void jwtAt(int p) {
            if (p < jwtFrom) {
                return;
            }
            if (jwt == null) {
                jwt = JWT.matcher(text).useTransparentBounds(true);
            }
            Matcher m = jwt;
            m.region(p, text.length());
            if (m.lookingAt()) {
                jwtFrom = m.end();
                if (isJwtHeader(text.substring(m.start(), text.indexOf('.', m.start())))) {
                    candidates.add(new Candidate(FORMATS.size(), m.start(), m.end(), "JSON Web Token"));
                }
            }
        }

        /** Every match of a pattern that starts with a literal, found from each place the literal is. */
        void literal(Pattern pattern, String start, int priority) {
            int at = text.indexOf(start);
            Matcher m = null;
            while (at >= 0) {
                if (m == null) {
                    m = pattern.matcher(text).useTransparentBounds(true);
                }
                m.region(at, text.length());
                if (m.lookingAt()) {
                    candidates.add(new Candidate(priority, m.start(), m.end(), FORMATS.get(priority).reason()));
                    at = text.indexOf(start, m.end());
                } else {
                    at = text.indexOf(start, at + 1);
                }
            }
        }

        void privateKeys() {
            int at = text.indexOf(PEM_START);
            Matcher m = null;
            while (at >= 0) {
                if (m == null) {
                    m = PEM_BEGIN.matcher(text).useTransparentBounds(true);
                }
                m.region(at, text.length());
                if (m.lookingAt()) {
                    String kind = m.group(1);
                    String footer = m.group().replace("BEGIN", "END");
                    int end = text.indexOf(footer, m.end());
                    candidates.add(new Candidate(FORMATS.size() + 1, m.start(),
                            end < 0 ? text.length() : end + footer.length(),
                            (kind == null ? "" : kind + " ") + "private key"));
                    at = text.indexOf(PEM_START, m.end());
                } else {
                    at = text.indexOf(PEM_START, at + 1);
                }
            }
        }

        /**
         * The candidates of a key found only after a context word, in one run: a candidate is made of token
         * characters, so it is inside one run, and the pattern's own boundaries look past the run's.
         */
        private void contextual(int start, int end, Pattern candidate, boolean aws, int before, String reason,
                                int priority) {
            int known = aws ? awsContext : azureContext;
            if (known < 0) {
                known = (aws ? AWS_CONTEXT : AZURE_CONTEXT).matcher(text).find() ? 1 : 0;
                if (aws) {
                    awsContext = known;
                } else {
                    azureContext = known;
                }
            }
            if (known == 0) {
                return; // no context word anywhere: no candidate can have one before it
            }
            Pattern context = aws ? AWS_CONTEXT : AZURE_CONTEXT;
            Matcher m = candidate.matcher(text).useTransparentBounds(true).region(start, end);
            while (m.find()) {
                if (!mixed(text, m.start(), m.end())) {
                    continue;
                }
                Matcher c = context.matcher(text).region(Math.max(0, m.start() - before), m.start());
                if (c.find()) {
                    candidates.add(new Candidate(priority, m.start(), m.end(), reason));
                }
            }
        }

        /**
         * Generic secrets whose value may be in this run. A value is at least 16 token characters, so it is in a
         * run of at least 16, and its keyword starts at most 40 characters before the value:
         * every place in that reach where a keyword starts is tried, once, in order, as a search would.
         */
        private void generic(int start, int end) {
            int p = Math.max(Math.max(genericFrom, genericTried), start - GENERIC_REACH);
            for (; p < end; p++) {
                if (p < genericFrom || !keywordAt(p)) {
                    continue;
                }
                if (generic == null) {
                    generic = GENERIC.matcher(text).useTransparentBounds(true);
                }
                Matcher m = generic;
                m.region(p, text.length());
                if (m.lookingAt()) {
                    genericFrom = m.end();
                    if (isGenericSecret(m.group(1))) {
                        candidates.add(new Candidate(FORMATS.size() + 4, m.start(1), m.end(1),
                                "high-entropy value after a credential keyword"));
                    }
                }
            }
            genericTried = Math.max(genericTried, end);
        }

        /** Whether a keyword of the generic pattern (or a longer word it starts) may start at {@code p}. */
        private boolean keywordAt(int p) {
            return switch (text.charAt(p)) {
                case 'a', 'A' -> hasWordAt(text, p, "api") || hasWordAt(text, p, "auth");
                case 's', 'S' -> hasWordAt(text, p, "secret");
                case 't', 'T' -> hasWordAt(text, p, "token");
                case 'p', 'P' -> hasWordAt(text, p, "pass") || hasWordAt(text, p, "pwd");
                case 'k', 'K' -> hasWordAt(text, p, "key");
                default -> false;
            };
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
        return "SecretsPolicy{id=" + id + "}";
    }
}
