package dev.parley.policy;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.Checksums;
import dev.parley.policy.internal.Ids;
import dev.parley.policy.internal.PhoneRegion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * Finds personal data: e-mail addresses ({@link Finding#PII_EMAIL}), phone numbers ({@link Finding#PII_PHONE}),
 * payment card numbers ({@link Finding#PII_CARD}) and IBANs ({@link Finding#PII_IBAN}). Immutable and thread safe.
 *
 * <ul>
 *   <li>E-mail: a practical subset of RFC 5322, a dot-atom local part of at most 64 characters, {@code @}, and a
 *       domain of at least two labels ending in an alphabetic top-level domain. Not {@code a@b}, not
 *       {@code user@localhost}, not quoted local parts, IP-literal domains or internationalized addresses.</li>
 *   <li>Phone: Google's libphonenumber, {@code findNumbers} at {@code Leniency.VALID} for each configured region
 *       (numbers in that region's national format) and for international numbers written with {@code +} of any
 *       region; it knows every region's real numbering plan, which no regex of ours would. Numbers that are not
 *       valid for a region (too short, unassigned ranges) are not found, nor national numbers of unconfigured
 *       regions. Extensions ({@code ext. 12}) are not part of the span, and numbers written in more than eight
 *       groups of digits are not found. A candidate (a run of 5 to 17 digits with separators) goes to libphonenumber
 *       only for the regions whose numbering plan, read from libphonenumber's metadata, allows a number in it: an
 *       order number, a date or a version goes to none, and what is found is the same.</li>
 *   <li>Card: 13 to 19 digits, optionally separated by single spaces or dashes, not part of a longer digit run,
 *       with a known issuer prefix and length (Visa, Mastercard, American Express, Discover, JCB, Diners Club,
 *       UnionPay, Maestro) and a valid Luhn check digit. Look-alikes failing Luhn are not found; a Luhn-valid
 *       order number with an issuer prefix is (one in ten random numbers passes Luhn).</li>
 *   <li>IBAN: a country of the ISO 13616 registry, two check digits and the country's exact length, compact or in
 *       space-separated groups of four, in upper case, whose mod-97 remainder is 1. Wrong check digits or lengths
 *       are not found.</li>
 * </ul>
 * Where two kinds overlap, cards and IBANs win over phone numbers.
 *
 * <p>One pass over the text finds where each kind can start (the first digit of a group, an '@'); each kind's
 * pattern and checks run only there.
 */
public final class PiiPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "pii";
    /** The default phone regions; international numbers of any region are found besides. */
    public static final List<String> DEFAULT_REGIONS = List.of("US", "GB", "DE", "FR", "IN");
    /** The longest span this policy needs whole: an e-mail address of at most 254 characters. */
    public static final int MAX_SPAN = 256;

    /** What this policy can look for. */
    public enum Kind { EMAIL, PHONE, CARD, IBAN }

    private static final String ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}+";
    private static final Pattern EMAIL = Pattern.compile("(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])" + ATOM
            + "(?:\\." + ATOM + "){0,16}+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.){1,8}"
            + "[A-Za-z]{2,63}+(?![A-Za-z0-9-]|\\.[A-Za-z0-9])");
    /** Where a phone number may be: up to eight digit groups with short separators, 5 to 17 digits. */
    private static final Pattern PHONE_RUN = Pattern.compile("(?<![0-9])[+(]?[0-9]{1,17}+"
            + "(?:[ \\u00A0.\\-/()\\u2010-\\u2015]{1,3}+[0-9]{1,17}+){0,7}+\\)?");

    private final String id;
    private final Set<Kind> kinds;
    private final List<String> regions;
    /** The regions, then "ZZ" for international numbers of any region. */
    private final List<PhoneRegion> phoneRegions;

    private PiiPolicy(String id, Set<Kind> kinds, List<String> regions) {
        this.id = id;
        this.kinds = kinds;
        this.regions = regions;
        List<PhoneRegion> all = new ArrayList<>();
        if (kinds.contains(Kind.PHONE)) {
            for (String r : regions) {
                all.add(PhoneRegion.of(r));
            }
            all.add(PhoneRegion.of(PhoneRegion.INTERNATIONAL));
        }
        this.phoneRegions = List.copyOf(all);
    }

    /** Every kind, phones of {@link #DEFAULT_REGIONS} and international ones, with id {@value #DEFAULT_ID}. */
    public static PiiPolicy standard() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * This policy with another id.
     *
     * @throws InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9, '.', '_', '-'
     */
    public PiiPolicy withId(String newId) {
        return new PiiPolicy(Ids.check(newId), kinds, regions);
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxSpan() {
        return MAX_SPAN;
    }

    /** The kinds looked for. */
    public Set<Kind> kinds() {
        return kinds;
    }

    /** The phone regions whose national numbers are found. */
    public List<String> regions() {
        return regions;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        String text = input.text();
        int n = text.length();
        List<int[]> cards = null;
        List<int[]> ibans = null;
        List<int[]> phoneRuns = null;
        int phoneFrom = 0;
        boolean at = false;
        boolean wantCards = kinds.contains(Kind.CARD);
        boolean wantIbans = kinds.contains(Kind.IBAN);
        boolean wantPhones = kinds.contains(Kind.PHONE);
        Matcher phoneRun = null;
        // one pass: every kind's match starts at a digit, or ends at one an '@' is before
        for (int i = 0; i < n; i++) {
            char ch = text.charAt(i);
            if (ch == '@') {
                at = true;
                continue;
            }
            if (ch < '0' || ch > '9' || (i > 0 && isDigit(text.charAt(i - 1)))) {
                continue;
            }
            // the first digit of a group
            if (wantCards && !(i >= 2 && isSeparator(text.charAt(i - 1)) && isDigit(text.charAt(i - 2)))) {
                int end = chainEnd(text, i);
                if (end > 0) {
                    cards = add(cards, i, end);
                }
            }
            if (wantIbans && i >= 2 && i + 1 < n && isDigit(text.charAt(i + 1)) && isUpper(text.charAt(i - 1))
                    && isUpper(text.charAt(i - 2)) && (i < 3 || !isAsciiLetterOrDigit(text.charAt(i - 3)))) {
                ibans = add(ibans, i - 2, i + 2);
            }
            if (wantPhones) {
                int start = i > 0 && i - 1 >= phoneFrom && (text.charAt(i - 1) == '+' || text.charAt(i - 1) == '(')
                        ? i - 1 : i;
                if (start >= phoneFrom) {
                    if (phoneRun == null) {
                        phoneRun = PHONE_RUN.matcher(text).useTransparentBounds(true);
                    }
                    phoneRun.region(start, n);
                    if (!phoneRun.lookingAt() && start < i) {
                        phoneRun.region(i, n);
                        phoneRun.lookingAt();
                    }
                    phoneRuns = add(phoneRuns, phoneRun.start(), phoneRun.end());
                    phoneFrom = phoneRun.end();
                }
            }
        }
        List<Finding> found = new ArrayList<>();
        if (cards != null) {
            cards(text, cards, found);
        }
        if (ibans != null) {
            ibans(text, ibans, found);
        }
        if (at && kinds.contains(Kind.EMAIL)) {
            emails(text, found);
        }
        if (phoneRuns != null) {
            phones(text, phoneRuns, found);
        }
        if (found.size() > 1) {
            found.sort(Comparator.comparingInt(Finding::start).thenComparingInt(Finding::end));
        }
        return found;
    }

    private static List<int[]> add(@Nullable List<int[]> list, int start, int end) {
        List<int[]> l = list == null ? new ArrayList<>(4) : list;
        l.add(new int[] {start, end});
        return l;
    }

    private static boolean isDigit(char ch) {
        return ch >= '0' && ch <= '9';
    }

    private static boolean isSeparator(char ch) {
        return ch == ' ' || ch == '-';
    }

    private static boolean isUpper(char ch) {
        return ch >= 'A' && ch <= 'Z';
    }

    private static boolean isAsciiLetterOrDigit(char ch) {
        return isDigit(ch) || isUpper(ch) || (ch >= 'a' && ch <= 'z');
    }

    /**
     * Where a card number's digits that start at {@code start} end: digits with single spaces or dashes between
     * them, 13 to 19 in all and not followed by more; 0 when the chain is shorter or longer.
     */
    private static int chainEnd(String text, int start) {
        int n = text.length();
        int digits = 0;
        int i = start;
        while (true) {
            while (i < n && isDigit(text.charAt(i))) {
                digits++;
                i++;
            }
            if (i + 1 < n && isSeparator(text.charAt(i)) && isDigit(text.charAt(i + 1))) {
                i++;
                continue;
            }
            break;
        }
        return digits >= 13 && digits <= 19 ? i : 0;
    }

    private void cards(String text, List<int[]> spans, List<Finding> found) {
        StringBuilder digits = new StringBuilder(19);
        for (int[] span : spans) {
            digits.setLength(0);
            for (int i = span[0]; i < span[1]; i++) {
                char ch = text.charAt(i);
                if (ch != ' ' && ch != '-') {
                    digits.append(ch);
                }
            }
            String network = network(digits);
            if (network != null && Checksums.luhn(digits)) {
                add(found, span[0], span[1], Finding.PII_CARD, network + " card number");
            }
        }
    }

    /**
     * E-mail addresses, from each '@': a match's local part is the whole run of local-part characters before its
     * '@' (the pattern's look-behind admits no other start), so the pattern is tried only there.
     */
    private void emails(String text, List<Finding> found) {
        Matcher m = null;
        int from = 0;
        for (int q = text.indexOf('@'); q >= 0; q = text.indexOf('@', q + 1)) {
            int start = q;
            while (start > 0 && isLocalChar(text.charAt(start - 1))) {
                start--;
            }
            if (start == q || start < from) {
                continue;
            }
            if (m == null) {
                m = EMAIL.matcher(text).useTransparentBounds(true);
            }
            m.region(start, text.length());
            if (m.lookingAt()) {
                add(found, m.start(), m.end(), Finding.PII_EMAIL, "e-mail address");
                from = m.end();
            }
        }
    }

    /** The characters of an address's local part: an atom's and the dot. */
    private static boolean isLocalChar(char ch) {
        return isAsciiLetterOrDigit(ch) || (ch < 128 && "!#$%&'*+/=?^_`{|}~.-".indexOf(ch) >= 0);
    }

    /** The card network of a number by its issuer prefix and length, or null when none issues it. */
    static @Nullable String network(CharSequence d) {
        int n = d.length();
        int p1 = d.charAt(0) - '0';
        int p2 = Integer.parseInt(d.subSequence(0, 2).toString());
        int p3 = Integer.parseInt(d.subSequence(0, 3).toString());
        int p4 = Integer.parseInt(d.subSequence(0, 4).toString());
        int p6 = Integer.parseInt(d.subSequence(0, 6).toString());
        if (p1 == 4 && (n == 13 || n == 16 || n == 19)) {
            return "Visa";
        }
        if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && n == 16) {
            return "Mastercard";
        }
        if ((p2 == 34 || p2 == 37) && n == 15) {
            return "American Express";
        }
        if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925))
                && n >= 16 && n <= 19) {
            return "Discover";
        }
        if (p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19) {
            return "JCB";
        }
        if ((p2 == 36 || (p3 >= 300 && p3 <= 305) || p2 == 38 || p2 == 39) && n >= 14 && n <= 19) {
            return "Diners Club";
        }
        if (p2 == 62 && n >= 16 && n <= 19) {
            return "UnionPay";
        }
        if ((p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759
                || (p4 >= 6761 && p4 <= 6763)) && n >= 13 && n <= 19) {
            return "Maestro";
        }
        return null;
    }

    private void ibans(String text, List<int[]> starts, List<Finding> found) {
        StringBuilder compact = new StringBuilder(34);
        for (int[] span : starts) {
            int length = Checksums.ibanLength(text.substring(span[0], span[0] + 2));
            if (length == 0) {
                continue;
            }
            int end = scanIban(text, span[0], length, compact);
            if (end > 0 && Checksums.ibanMod97(compact)) {
                add(found, span[0], end, Finding.PII_IBAN, "IBAN");
            }
        }
    }

    /** The end of an IBAN of {@code length} at {@code start}, compact or in groups of four; 0 when there is none. */
    private static int scanIban(String text, int start, int length, StringBuilder compact) {
        for (boolean spaced : new boolean[] {false, true}) {
            compact.setLength(0);
            int i = start;
            while (compact.length() < length && i < text.length()) {
                char ch = text.charAt(i);
                if (spaced && compact.length() > 0 && compact.length() % 4 == 0) {
                    if (ch != ' ') {
                        break;
                    }
                    i++;
                    if (i >= text.length()) {
                        break;
                    }
                    ch = text.charAt(i);
                }
                if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
                    break;
                }
                compact.append(ch);
                i++;
            }
            if (compact.length() == length && (i >= text.length() || !Character.isLetterOrDigit(text.charAt(i)))) {
                return i;
            }
        }
        return 0;
    }

    private void phones(String text, List<int[]> runs, List<Finding> found) {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        List<int[]> spans = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (int[] run : runs) {
            int digits = 0;
            int group = 0;
            int longestGroup = 0;
            for (int i = run[0]; i < run[1]; i++) {
                if (Character.isDigit(text.charAt(i))) {
                    digits++;
                    longestGroup = Math.max(longestGroup, ++group);
                } else {
                    group = 0;
                }
            }
            if (digits < 5 || digits > 17 || longestGroup < 2) {
                continue;
            }
            // libphonenumber slows down badly on long runs of digits and spaces: give it one candidate at a time,
            // and only for the regions whose numbering plan allows a number in it
            int start = Math.max(0, run[0] - 1);
            int end = Math.min(text.length(), run[1] + 1);
            String piece = text.substring(start, end);
            PhoneRegion.Piece read = PhoneRegion.Piece.of(piece);
            for (PhoneRegion region : phoneRegions) {
                if (!region.mayFind(read)) {
                    continue;
                }
                for (PhoneNumberMatch match : util.findNumbers(piece, region.code(), PhoneNumberUtil.Leniency.VALID,
                        Long.MAX_VALUE)) {
                    String where = util.getRegionCodeForNumber(match.number());
                    spans.add(new int[] {start + match.start(), start + match.end()});
                    reasons.add("phone number" + (where == null || "ZZ".equals(where) ? "" : " (" + where + ")"));
                }
            }
        }
        if (spans.isEmpty()) {
            return;
        }
        Integer[] order = new Integer[spans.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingInt((Integer i) -> spans.get(i)[0] - spans.get(i)[1])
                .thenComparingInt(i -> spans.get(i)[0]));
        for (int i : order) {
            add(found, spans.get(i)[0], spans.get(i)[1], Finding.PII_PHONE, reasons.get(i));
        }
    }

    private void add(List<Finding> found, int start, int end, String category, String reason) {
        for (Finding f : found) {
            if (start < f.end() && f.start() < end) {
                return;
            }
        }
        found.add(new Finding(start, end, category, id, reason));
    }

    @Override
    public String toString() {
        return "PiiPolicy{id=" + id + ", kinds=" + kinds + ", regions=" + regions + "}";
    }

    /** Builds a {@link PiiPolicy}; each option is checked when set and may be set once. Not thread safe. */
    public static final class Builder {
        private String id = DEFAULT_ID;
        private @Nullable Set<Kind> kinds;
        private @Nullable List<String> regions;
        private boolean idSet;

        private Builder() {
        }

        /**
         * The policy's id.
         *
         * @throws InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9, '.', '_', '-'
         */
        public Builder id(String value) {
            if (idSet) {
                throw new IllegalStateException("id was already set");
            }
            this.id = Ids.check(value);
            idSet = true;
            return this;
        }

        /**
         * What to look for; every kind by default.
         *
         * @throws InvalidRequestException naming {@code kinds} when none is given or one is null
         */
        public Builder kinds(Kind... which) {
            if (kinds != null) {
                throw new IllegalStateException("kinds was already set to " + kinds);
            }
            if (which == null || which.length == 0) {
                throw new InvalidRequestException("kinds", "must name at least one of " + List.of(Kind.values()));
            }
            EnumSet<Kind> set = EnumSet.noneOf(Kind.class);
            for (Kind k : which) {
                if (k == null) {
                    throw new InvalidRequestException("kinds", "must not contain null");
                }
                set.add(k);
            }
            this.kinds = java.util.Collections.unmodifiableSet(set);
            return this;
        }

        /** The kinds by name (email, phone, card, iban), in any case. */
        public Builder kinds(List<String> names) {
            if (names == null || names.isEmpty()) {
                throw new InvalidRequestException("kinds", "must name at least one of email, phone, card, iban");
            }
            Kind[] parsed = new Kind[names.size()];
            for (int i = 0; i < parsed.length; i++) {
                String name = names.get(i) == null ? "" : names.get(i).trim().toUpperCase(Locale.ROOT);
                parsed[i] = java.util.Arrays.stream(Kind.values()).filter(k -> k.name().equals(name)).findFirst()
                        .orElseThrow(() -> new InvalidRequestException("kinds",
                                "must be among email, phone, card, iban"));
            }
            return kinds(parsed);
        }

        /**
         * The regions (ISO 3166 codes such as {@code US}) whose national phone numbers are found, instead of
         * {@link #DEFAULT_REGIONS}; international numbers with {@code +} are found whatever the regions.
         *
         * @throws InvalidRequestException naming {@code regions} when none is given or one is unknown to
         *         libphonenumber
         */
        public Builder regions(String... codes) {
            if (regions != null) {
                throw new IllegalStateException("regions was already set to " + regions);
            }
            if (codes == null || codes.length == 0) {
                throw new InvalidRequestException("regions", "must name at least one region");
            }
            Set<String> supported = PhoneNumberUtil.getInstance().getSupportedRegions();
            Set<String> set = new LinkedHashSet<>();
            for (String c : codes) {
                String code = c == null ? "" : c.trim().toUpperCase(Locale.ROOT);
                if (!supported.contains(code)) {
                    throw new InvalidRequestException("regions", "must be ISO 3166 region codes with a numbering"
                            + " plan, such as US or GB");
                }
                set.add(code);
            }
            this.regions = List.copyOf(set);
            return this;
        }

        public PiiPolicy build() {
            return new PiiPolicy(id, kinds == null ? java.util.Collections.unmodifiableSet(EnumSet.allOf(Kind.class))
                    : kinds, regions == null ? DEFAULT_REGIONS : regions);
        }
    }
}
