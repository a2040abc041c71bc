package dev.parley.policy.internal;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonemetadata.NumberFormat;
import com.google.i18n.phonenumbers.Phonemetadata.PhoneMetadata;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import com.google.i18n.phonenumbers.metadata.DefaultMetadataDependenciesProvider;
import com.google.i18n.phonenumbers.metadata.source.MetadataSource;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

/**
 * One region's phone numbering plan, read from libphonenumber's own metadata, to tell cheaply when
 * {@code findNumbers(piece, region, Leniency.VALID)} cannot find anything in a piece of text, so that it is not
 * called there. Not API.
 *
 * <p>The judgement follows what libphonenumber does with a candidate without a plus sign: the candidate and the
 * parts it tries inside it are whole groups of digits; it strips an international (IDD) prefix (when a country
 * code, which never starts with 0, and more digits follow it), the region's
 * country code or its national prefix from the start of one, else the digits are the national number; the number
 * must then be valid for the region's country code, and a number in national format without its national prefix
 * is refused when the region formats such a number with the prefix. So a piece is skipped only when no run of
 * whole groups starts with an IDD prefix, and none is (after the country code or national prefix it starts with,
 * if any) a valid national number that may be written so. A number with a plus sign is parsed the same whatever
 * the region, so a piece with one goes to region {@value #INTERNATIONAL}, and to another region only when these
 * rules let it hold a number without the plus as well. Pieces with letters or more than 17 digits, regions whose
 * national prefix rewrites digits and anything unexpected in the metadata are always given to libphonenumber.
 * Immutable and thread safe.
 */
public final class PhoneRegion {
    /** Region "ZZ": international numbers only, each of which starts with a plus sign. */
    public static final String INTERNATIONAL = "ZZ";

    private record Format(int min, int max, @Nullable Pattern leading, boolean prefixFree) {
    }

    /**
     * A prefix pattern of the metadata (an IDD or a national prefix), matched at the start of some digits: by
     * {@code startsWith} when it is digits or an alternation of digits ("0", "00", "0|180020"), as
     * {@code lookingAt} would (the first alternative that matches), else by the pattern.
     */
    private static final class Prefix {
        private final Pattern pattern;
        private final String @Nullable [] literals;

        Prefix(String regex) {
            this.pattern = Pattern.compile(regex);
            this.literals = regex.matches("[0-9]+(?:\\|[0-9]+)*") ? regex.split("\\|") : null;
        }

        /** Where the prefix that {@code digits} starts with at {@code from} ends; -1 when it does not. */
        int end(String digits, int from) {
            if (literals != null) {
                for (String l : literals) {
                    if (digits.startsWith(l, from)) {
                        return from + l.length();
                    }
                }
                return -1;
            }
            Matcher m = pattern.matcher(digits).region(from, digits.length());
            return m.lookingAt() ? m.end() : -1;
        }
    }

    private final String code;
    private final boolean alwaysAsk;
    private final int countryCode;
    private final String countryDigits;
    private final @Nullable Prefix idd;
    private final @Nullable Prefix nationalPrefix;
    /** The national number lengths of the country code's regions, a bit each. */
    private final long lengths;
    /** The general pattern of each region of the country code, and its lengths. */
    private final List<Pattern> generals;
    private final long[] generalLengths;
    private final List<Format> formats;

    private PhoneRegion(String code, boolean alwaysAsk, int countryCode, @Nullable Prefix idd,
                        @Nullable Prefix nationalPrefix, List<Pattern> generals, long[] generalLengths,
                        List<Format> formats) {
        this.code = code;
        this.alwaysAsk = alwaysAsk;
        this.countryCode = countryCode;
        this.countryDigits = Integer.toString(countryCode);
        this.idd = idd;
        this.nationalPrefix = nationalPrefix;
        long all = 0;
        for (long l : generalLengths) {
            all |= l;
        }
        this.lengths = all;
        this.generals = generals;
        this.generalLengths = generalLengths;
        this.formats = formats;
    }

    /** The region of {@code code} (an ISO 3166 code libphonenumber supports, or {@value #INTERNATIONAL}). */
    public static PhoneRegion of(String code) {
        if (INTERNATIONAL.equals(code)) {
            return new PhoneRegion(code, false, 0, null, null, List.of(), new long[0], List.of());
        }
        try {
            return read(code);
        } catch (RuntimeException e) {
            return always(code); // metadata not as expected: let libphonenumber judge every piece
        }
    }

    private static PhoneRegion always(String code) {
        return new PhoneRegion(code, true, 0, null, null, List.of(), new long[0], List.of());
    }

    private static PhoneRegion read(String code) {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        MetadataSource source = DefaultMetadataDependenciesProvider.getInstance().getPhoneNumberMetadataSource();
        PhoneMetadata region = source.getMetadataForRegion(code);
        int cc = util.getCountryCodeForRegion(code);
        PhoneMetadata main = source.getMetadataForRegion(util.getRegionCodeForCountryCode(cc));
        if (region == null || main == null || cc == 0
                || (region.hasNationalPrefixTransformRule() && !region.getNationalPrefixTransformRule().isEmpty())) {
            return always(code);
        }
        List<Pattern> generals = new ArrayList<>();
        List<String> ccRegions = util.getRegionCodesForCountryCode(cc);
        long[] generalLengths = new long[ccRegions.size()];
        for (String r : ccRegions) {
            PhoneMetadata m = source.getMetadataForRegion(r);
            if (m == null || m.getGeneralDesc().getPossibleLengthCount() == 0
                    || !m.getGeneralDesc().hasNationalNumberPattern()) {
                return always(code);
            }
            long mask = 0;
            for (int length : m.getGeneralDesc().getPossibleLengthList()) {
                if (length < 1 || length > 17) {
                    return always(code);
                }
                mask |= 1L << length;
            }
            generalLengths[generals.size()] = mask;
            generals.add(Pattern.compile(m.getGeneralDesc().getNationalNumberPattern()));
        }
        List<Format> formats = new ArrayList<>();
        for (NumberFormat f : main.getNumberFormatList()) {
            int[] lengths = lengths(f.getPattern());
            int n = f.getLeadingDigitsPatternCount();
            String rule = f.getNationalPrefixFormattingRule();
            int group = rule.indexOf("$1");
            boolean prefixFree = rule.isEmpty() || f.getNationalPrefixOptionalWhenFormatting()
                    || rule.matches("\\(?\\$1\\)?") || group < 0 || !rule.substring(0, group).matches(".*\\d.*");
            formats.add(new Format(lengths[0], lengths[1],
                    n == 0 ? null : Pattern.compile(f.getLeadingDigitsPattern(n - 1)), prefixFree));
        }
        String iddRegex = region.getInternationalPrefix();
        String npRegex = region.getNationalPrefixForParsing();
        return new PhoneRegion(code, false, cc, iddRegex.isEmpty() ? null : new Prefix(iddRegex),
                npRegex.isEmpty() ? null : new Prefix(npRegex), List.copyOf(generals), generalLengths,
                List.copyOf(formats));
    }

    /**
     * The least and most digits a format's pattern matches: its patterns are groups of {@code \d}, {@code \d{n}}
     * or {@code \d{n,m}}; anything else gives 0 to any number, which only means the pattern is tried.
     */
    private static int[] lengths(String pattern) {
        Matcher m = Pattern.compile("\\(\\\\d(?:\\{(\\d+)(?:(,)(\\d*))?\\})?\\)").matcher(pattern);
        int min = 0;
        int max = 0;
        int at = 0;
        while (m.find()) {
            if (m.start() != at) {
                return new int[] {0, Integer.MAX_VALUE};
            }
            int lo = m.group(1) == null ? 1 : Integer.parseInt(m.group(1));
            int hi = m.group(2) == null ? lo : m.group(3).isEmpty() ? 1_000 : Integer.parseInt(m.group(3));
            min += lo;
            max += hi;
            at = m.end();
        }
        return at == pattern.length() && at > 0 ? new int[] {min, max} : new int[] {0, Integer.MAX_VALUE};
    }

    /** The region code, as libphonenumber takes it. */
    public String code() {
        return code;
    }

    /**
     * A phone candidate with a character on either side, as given to {@code findNumbers}, read once for every
     * region: its digits (any script's, as their values), where each group of them starts and ends, and whether
     * it has a plus sign.
     */
    public static final class Piece {
        private final String digits;
        private final int[] starts;
        private final int[] ends;
        private final int groups;
        private final boolean plus;
        private final boolean unusual;

        private Piece(CharSequence piece) {
            StringBuilder d = new StringBuilder(24);
            int[] s = new int[piece.length() + 1];
            int[] e = new int[piece.length() + 1];
            int g = 0;
            boolean inGroup = false;
            boolean p = false;
            boolean u = false;
            for (int i = 0; i < piece.length(); i++) {
                char ch = piece.charAt(i);
                if (Character.isDigit(ch)) {
                    if (!inGroup) {
                        s[g] = d.length();
                        inGroup = true;
                    }
                    d.append((char) ('0' + Character.digit(ch, 10)));
                    continue;
                }
                if (inGroup) {
                    e[g++] = d.length();
                    inGroup = false;
                }
                p |= ch == '+' || ch == '\uFF0B';
                u |= Character.isSurrogate(ch) || Character.isLetter(ch);
            }
            if (inGroup) {
                e[g++] = d.length();
            }
            this.digits = d.toString();
            this.starts = s;
            this.ends = e;
            this.groups = g;
            this.plus = p;
            this.unusual = u || d.length() > 17;
        }

        /** Reads {@code piece}. */
        public static Piece of(CharSequence piece) {
            return new Piece(piece);
        }
    }

    /**
     * Whether libphonenumber may find a number of this region in {@code piece}; false only when it cannot, or
     * when all it can find there is an international number, which region {@value #INTERNATIONAL} finds the same.
     */
    public boolean mayFind(Piece piece) {
        if (alwaysAsk) {
            return true;
        }
        if (countryCode == 0) {
            return piece.plus; // "ZZ" parses only numbers with a plus sign
        }
        if (piece.unusual) {
            return true; // letters (a number in words?), other planes, too many digits: let libphonenumber judge
        }
        // a number with a plus sign is parsed the same whatever the region: what only this region can add is a
        // number without one, in some run of whole groups
        String all = piece.digits;
        for (int k = 0; k < piece.groups; k++) {
            int afterIdd = idd == null ? -1 : idd.end(all, piece.starts[k]);
            if (afterIdd >= 0 && all.length() - afterIdd >= 3 && all.charAt(afterIdd) != '0') {
                return true; // an IDD prefix, then a country code (never starting with 0) and a number
            }
            for (int j = k; j < piece.groups; j++) {
                if (mayBeValid(all.substring(piece.starts[k], piece.ends[j]))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Whether the digits of whole groups {@code run} may be parsed as a valid number of this region. */
    private boolean mayBeValid(String run) {
        if (nationalPrefix != null) {
            int end = nationalPrefix.end(run, 0);
            if (end >= 0 && (isValid(run.substring(end)) || isValid(run))) {
                return true; // written with its national prefix (which libphonenumber may also keep)
            }
        }
        if (run.startsWith(countryDigits)) {
            String national = run.substring(countryDigits.length());
            if (isValid(national)) {
                return true; // written with the country code, without a plus sign
            }
            if (nationalPrefix != null) {
                int end = nationalPrefix.end(national, 0);
                if (end >= 0 && isValid(national.substring(end))) {
                    return true;
                }
            }
        }
        // written without a prefix: found only when the region formats such a number without its national prefix
        return !needsNationalPrefix(run) && isValid(run);
    }

    private boolean needsNationalPrefix(String national) {
        int n = national.length();
        for (Format f : formats) {
            if (n >= f.min() && n <= f.max() && (f.leading() == null || f.leading().matcher(national).lookingAt())) {
                return !f.prefixFree();
            }
        }
        return false; // no format applies: libphonenumber does not ask for the prefix
    }

    private boolean isValid(String national) {
        int n = national.length();
        if (n == 0 || n > 17 || (lengths & (1L << n)) == 0) {
            return false;
        }
        boolean general = false;
        for (int i = 0; i < generals.size() && !general; i++) {
            general = (generalLengths[i] & (1L << n)) != 0 && generals.get(i).matcher(national).matches();
        }
        if (!general) {
            return false; // a valid number matches its region's general pattern, of one of its lengths
        }
        PhoneNumber number = new PhoneNumber().setCountryCode(countryCode).setNationalNumber(Long.parseLong(national));
        if (n > 1 && national.charAt(0) == '0') {
            number.setItalianLeadingZero(true);
            int zeros = 1;
            while (zeros < n - 1 && national.charAt(zeros) == '0') {
                zeros++;
            }
            if (zeros != 1) {
                number.setNumberOfLeadingZeros(zeros);
            }
        }
        return PhoneNumberUtil.getInstance().isValidNumber(number);
    }

    @Override
    public String toString() {
        return "PhoneRegion{" + code + "}";
    }
}
