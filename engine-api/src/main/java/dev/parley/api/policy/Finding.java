package dev.parley.api.policy;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One thing a policy found in the text it was given: where, what kind, and why, without quoting it. Immutable
 * and thread safe.
 *
 * @param start the first character of the span, in the text the policy was given
 * @param end one past the last character of the span; a finding about the whole text (a size limit) spans it all
 * @param category what was found, in upper snake case: {@link #SECRET}, {@link #PII_EMAIL}, ... or a category of
 *                 the policy's own; the redaction placeholder names it
 * @param policyId the stable id of the policy that found it
 * @param reason a short explanation for people (at most {@value #MAX_REASON_LENGTH} characters) that never
 *               quotes the matched text: "AWS access key id", not the key
 */
public record Finding(int start, int end, String category, String policyId, String reason) {
    /** A credential: a cloud key, an API token, a private key, a password. */
    public static final String SECRET = "SECRET";
    /** An e-mail address. */
    public static final String PII_EMAIL = "PII_EMAIL";
    /** A phone number. */
    public static final String PII_PHONE = "PII_PHONE";
    /** A payment card number. */
    public static final String PII_CARD = "PII_CARD";
    /** An international bank account number. */
    public static final String PII_IBAN = "PII_IBAN";
    /** A word or pattern of a deny list. */
    public static final String DENY_LIST = "DENY_LIST";
    /** A prompt-injection or jailbreak attempt. */
    public static final String INJECTION = "INJECTION";
    /** A text over a size limit. */
    public static final String SIZE = "SIZE";
    /** A judge model's verdict. */
    public static final String JUDGE = "JUDGE";

    /** The longest reason kept. */
    public static final int MAX_REASON_LENGTH = 200;

    private static final Pattern CATEGORY = Pattern.compile("[A-Z][A-Z0-9_]{0,31}");

    public Finding {
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("span must have 0 <= start <= end: " + start + ", " + end);
        }
        Objects.requireNonNull(category, "category");
        if (!CATEGORY.matcher(category).matches()) {
            throw new IllegalArgumentException("category must be upper snake case of at most 32 characters: "
                    + category);
        }
        PolicyRule.checkId("policyId", policyId);
        Objects.requireNonNull(reason, "reason");
        if (reason.isBlank() || reason.length() > MAX_REASON_LENGTH || reason.chars().anyMatch(Character::isISOControl)) {
            throw new IllegalArgumentException("reason must be 1 to " + MAX_REASON_LENGTH
                    + " characters without control characters");
        }
    }

    /** The number of characters the finding spans. */
    public int length() {
        return end - start;
    }

    /** This finding moved by {@code offset} characters, for a policy that checked a part of a longer text. */
    public Finding shifted(int offset) {
        return new Finding(start + offset, end + offset, category, policyId, reason);
    }

    /** What a REDACT puts in place of the span: {@code [REDACTED:<category>]}. */
    public String placeholder() {
        return "[REDACTED:" + category + "]";
    }
}
