package dev.parley.policy;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.Emails;
import dev.parley.policy.internal.Ibans;
import dev.parley.policy.internal.Ids;
import dev.parley.policy.internal.PaymentCards;
import dev.parley.policy.internal.Phones;
import dev.parley.policy.internal.Span;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Finds personal data: e-mail addresses ({@link Finding#PII_EMAIL}), phone numbers ({@link Finding#PII_PHONE}),
 * payment card numbers ({@link Finding#PII_CARD}) and IBANs ({@link Finding#PII_IBAN}), each finding spanning the
 * value.
 *
 * <ul>
 *   <li><b>E-mail</b>: a practical subset of RFC 5322, a dot-atom local part, {@code @}, and a domain of two labels
 *       or more ending in a top-level domain of two or more letters, internationalized domains included. Not
 *       {@code a@b}, {@code user@localhost}, {@code x@1.2.3.4}, {@code lodash@4.17.21}, the
 *       {@code user:password@host} of a URL or the {@code git@host:path} of an SSH remote.</li>
 *   <li><b>Phone</b>: Google's libphonenumber, which knows every region's numbering plan, at its
 *       {@code VALID} leniency, once per configured region ({@link Builder#phoneRegions}, by default
 *       {@value #DEFAULT_REGIONS}); international numbers ({@code +44 20 7946 0958}) of every region are found
 *       whatever the regions. Dates, times and most version numbers are not numbers libphonenumber accepts. Known
 *       false positives: any digit string that happens to be a valid number of a configured region (a ten-digit
 *       order number can be a valid US number); a number right after {@code #} is skipped for that reason.</li>
 *   <li><b>Card</b>: 13 to 19 digits, whole or in groups joined by single spaces or dashes, that pass the Luhn
 *       check and start with a known issuer range of the length that network issues (Visa, Mastercard including
 *       2-series, American Express, Discover, JCB, Diners Club, UnionPay, Maestro, Mir, RuPay, Troy). A Luhn-failing
 *       number, an unknown range, or digits inside a longer digit run are not found. UnionPay numbers that are
 *       not Luhn-valid (a few exist) are missed.</li>
 *   <li><b>IBAN</b>: a country of the ISO 13616 registry, two check digits and the country's length exactly,
 *       whole or in groups of four, with a mod-97 checksum of 1. A wrong check digit or length is not found.</li>
 * </ul>
 *
 * A phone match inside a card number or IBAN is dropped in favour of that. {@link #maxSpan()} is 254 (the longest
 * e-mail address) when e-mail is checked, else 64. Immutable and thread safe.
 */
public final class PiiPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "pii";
    /** The phone regions of {@link #standard()}. */
    public static final String DEFAULT_REGIONS = "US, GB, DE, FR, IN";

    /** The kinds of personal data this policy can look for. */
    public enum Kind {
        /** E-mail addresses. */
        EMAIL,
        /** Phone numbers. */
        PHONE,
        /** Payment card numbers. */
        CARD,
        /** International bank account numbers. */
        IBAN
    }

    private final String id;
    private final Set<Kind> kinds;
    private final List<String> regions;

    private PiiPolicy(String id, Set<Kind> kinds, List<String> regions) {
        this.id = id;
        this.kinds = kinds;
        this.regions = regions;
    }

    /** E-mail, phone (regions {@value #DEFAULT_REGIONS}), card and IBAN, with id {@value #DEFAULT_ID}. */
    public static PiiPolicy standard() {
        return builder().build();
    }

    /** A policy of the kinds and regions chosen; each option unset is as in {@link #standard()}. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The same policy with another id.
     *
     * @throws InvalidRequestException naming {@code id} when it is malformed
     */
    public PiiPolicy withId(String newId) {
        return new PiiPolicy(Ids.check(newId), kinds, regions);
    }

    @Override
    public String id() {
        return id;
    }

    /** The kinds looked for. */
    public Set<Kind> kinds() {
        return kinds;
    }

    /** The regions whose national phone formats are looked for, in order. */
    public List<String> phoneRegions() {
        return regions;
    }

    @Override
    public int maxSpan() {
        return kinds.contains(Kind.EMAIL) ? Emails.MAX_LENGTH : 64;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        String text = input.text();
        List<Finding> found = new ArrayList<>();
        if (kinds.contains(Kind.EMAIL) && text.indexOf('@') >= 0) {
            for (Span s : Emails.find(text)) {
                found.add(new Finding(s.start(), s.end(), Finding.PII_EMAIL, id, "e-mail address"));
            }
        }
        List<Span> numbers = new ArrayList<>();
        if (kinds.contains(Kind.CARD) && PaymentCards.mayContain(text)) {
            for (Span s : PaymentCards.find(text)) {
                numbers.add(s);
                found.add(new Finding(s.start(), s.end(), Finding.PII_CARD, id, "payment card number (" + s.label()
                        + ")"));
            }
        }
        if (kinds.contains(Kind.IBAN) && text.length() >= 15) {
            for (Span s : Ibans.find(text)) {
                numbers.add(s);
                found.add(new Finding(s.start(), s.end(), Finding.PII_IBAN, id, "IBAN (" + s.label() + ")"));
            }
        }
        if (kinds.contains(Kind.PHONE)) {
            for (Span s : Phones.find(text, regions)) {
                if (numbers.stream().noneMatch(n -> n.overlaps(s.start(), s.end()))
                        && found.stream().noneMatch(f -> f.category().equals(Finding.PII_EMAIL)
                        && f.start() < s.end() && s.start() < f.end())) {
                    found.add(new Finding(s.start(), s.end(), Finding.PII_PHONE, id, "phone number"));
                }
            }
        }
        if (found.size() > 1) {
            found.sort(Comparator.comparingInt(Finding::start));
        }
        return found;
    }

    @Override
    public String toString() {
        return "PiiPolicy{id=" + id + ", kinds=" + kinds + ", phoneRegions=" + regions + "}";
    }

    /** Builds a {@link PiiPolicy}; each option is checked when set and may be set once. Not thread safe. */
    public static final class Builder {
        private String id = DEFAULT_ID;
        private Set<Kind> kinds = EnumSet.allOf(Kind.class);
        private List<String> regions = List.of("US", "GB", "DE", "FR", "IN");
        private boolean idSet;
        private boolean kindsSet;
        private boolean regionsSet;

        private Builder() {
        }

        /** The policy's id: {@value #DEFAULT_ID} unless set. */
        public Builder id(String value) {
            if (idSet) {
                throw new InvalidRequestException("id", "was already set");
            }
            this.id = Ids.check(value);
            idSet = true;
            return this;
        }

        /**
         * The kinds to look for: all four unless set.
         *
         * @throws InvalidRequestException naming {@code kinds} when none is given, or one is null
         */
        public Builder kinds(Kind... chosen) {
            if (kindsSet) {
                throw new InvalidRequestException("kinds", "was already set");
            }
            if (chosen == null || chosen.length == 0) {
                throw new InvalidRequestException("kinds", "must name at least one kind of personal data");
            }
            EnumSet<Kind> set = EnumSet.noneOf(Kind.class);
            for (Kind k : chosen) {
                if (k == null) {
                    throw new InvalidRequestException("kinds", "must not contain null");
                }
                set.add(k);
            }
            this.kinds = set;
            kindsSet = true;
            return this;
        }

        /**
         * The regions whose national phone formats are looked for, as CLDR two-letter codes ({@code US},
         * {@code CH}): {@value #DEFAULT_REGIONS} unless set. International numbers are found whatever the
         * regions; none at all finds only those. Each region costs a pass of libphonenumber over the text's digit
         * clusters.
         *
         * @throws InvalidRequestException naming {@code phoneRegions} when a code is null or not a region
         *         libphonenumber knows
         */
        public Builder phoneRegions(String... codes) {
            if (regionsSet) {
                throw new InvalidRequestException("phoneRegions", "was already set");
            }
            if (codes == null) {
                throw new InvalidRequestException("phoneRegions", "is required");
            }
            Set<String> supported = PhoneNumberUtil.getInstance().getSupportedRegions();
            LinkedHashSet<String> set = new LinkedHashSet<>();
            for (int i = 0; i < codes.length; i++) {
                String code = codes[i] == null ? null : codes[i].trim().toUpperCase(Locale.ROOT);
                if (code == null || !supported.contains(code)) {
                    throw new InvalidRequestException("phoneRegions", "entry " + i
                            + " is not a region code libphonenumber knows (two letters, such as US or CH)");
                }
                set.add(code);
            }
            this.regions = List.copyOf(set);
            regionsSet = true;
            return this;
        }

        public PiiPolicy build() {
            return new PiiPolicy(id, java.util.Collections.unmodifiableSet(EnumSet.copyOf(kinds)), regions);
        }
    }
}
