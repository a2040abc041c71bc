package dev.parley.policy;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberFormat;
import com.google.i18n.phonenumbers.PhoneNumberUtil.PhoneNumberType;
import com.google.i18n.phonenumbers.Phonenumber.PhoneNumber;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.parley.policy.Texts.DIGITS;
import static dev.parley.policy.Texts.LOWER;
import static dev.parley.policy.Texts.UPPER;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The single-pass {@link PiiPolicy}, which gives libphonenumber only the candidates a region's numbering plan
 * allows, finds exactly what its former version ({@link LegacyPiiPolicy}), which gave it every candidate in
 * every region, found: on random texts of real and near-miss addresses, cards, IBANs, phone numbers of every
 * region in every format, dates, versions and amounts.
 */
class PiiEquivalenceTest {
    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();
    /** Example numbers of every region and type, in national, international and E.164 format. */
    private static final List<String> NUMBERS = new ArrayList<>();
    private static final String[] SEPARATORS = {" ", "-", ".", "/", "  ", " - ", "\u00a0", "\u2013", "(", ")",
        ") ", " (", "", "", ""};

    static {
        for (String region : new TreeSet<>(UTIL.getSupportedRegions())) {
            for (PhoneNumberType type : PhoneNumberType.values()) {
                PhoneNumber n = UTIL.getExampleNumberForType(region, type);
                if (n != null) {
                    for (PhoneNumberFormat format : new PhoneNumberFormat[] {PhoneNumberFormat.NATIONAL,
                        PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.E164}) {
                        NUMBERS.add(UTIL.format(n, format));
                    }
                    NUMBERS.add(UTIL.formatOutOfCountryCallingNumber(n, "US"));
                    NUMBERS.add(UTIL.formatOutOfCountryCallingNumber(n, "DE"));
                    NUMBERS.add(UTIL.getNationalSignificantNumber(n));
                }
            }
        }
    }

    private static String phone(Fuzz f) {
        String number = switch (f.random.nextInt(5)) {
            case 0, 1 -> NUMBERS.get(f.random.nextInt(NUMBERS.size()));
            case 2 -> regroup(f, NUMBERS.get(f.random.nextInt(NUMBERS.size())).replaceAll("[^0-9+]", ""));
            default -> regroup(f, f.pick(new String[] {"", "", "0", "00", "011", "+", "+1", "1", "44", "49", "0049",
                "+49 ", "(0", "＋", "33", "91", "0091", "81", "010"}) + f.random(DIGITS, f.between(3, 14)));
        };
        return switch (f.random.nextInt(10)) {
            case 0 -> number.substring(0, f.between(0, number.length()));
            case 1 -> number.replace('1', '١').replace('2', '２');
            case 2 -> number + f.pick(new String[] {" ext. 12", " x3", "#", "/", " / 030 1234567"});
            default -> number;
        };
    }

    /** The digits (and a leading plus) regrouped at random. */
    private static String regroup(Fuzz f, String digits) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < digits.length(); i++) {
            if (i > 0 && f.random.nextInt(4) == 0) {
                b.append(f.pick(SEPARATORS));
            }
            b.append(digits.charAt(i));
        }
        return b.toString();
    }

    private static String other(Fuzz f) {
        return switch (f.random.nextInt(12)) {
            case 0 -> f.random(LOWER + ".-_+", f.between(1, 12)) + "@" + f.random(LOWER + "-", f.between(1, 8))
                    + f.pick(new String[] {".com", ".co.uk", ".", "", ".x", ".org."});
            case 1 -> f.pick(new String[] {"4", "5", "34", "37", "6011", "62", "36", "3528", "9"})
                    + regroup(f, f.random(DIGITS, f.between(10, 18)));
            case 2 -> PiiPolicyTest.card(f.pick(new String[] {"4", "51", "34", "6011", "3528", "62"}), 16);
            case 3 -> PiiPolicyTest.grouped(PiiPolicyTest.card("4", 16), f.pick(new String[] {" ", "-", "  "}));
            case 4 -> PiiPolicyTest.iban(f.pick(new String[] {"DE", "GB", "FR", "NL", "NO", "MT"}));
            case 5 -> PiiPolicyTest.grouped(PiiPolicyTest.iban("DE"), " ");
            case 6 -> f.random(UPPER, 2) + f.random(DIGITS, f.between(2, 30));
            case 7 -> f.between(1990, 2030) + f.pick(new String[] {"-", "/", "."}) + f.between(1, 12) + "-"
                    + f.between(1, 31);
            case 8 -> f.between(0, 20) + "." + f.between(0, 20) + "." + f.between(0, 200);
            case 9 -> f.between(1, 9_999) + "," + f.between(100, 999) + "." + f.between(10, 99);
            case 10 -> "order " + f.random(DIGITS, f.between(4, 12));
            default -> f.random(DIGITS + " .-/()+", f.between(1, 30));
        };
    }

    @Test
    void findsWhatTheFormerVersionFoundOnTextsOfPhoneNumbersAndLookAlikes() {
        Fuzz f = new Fuzz(3);
        PiiPolicy policy = PiiPolicy.standard();
        LegacyPiiPolicy legacy = LegacyPiiPolicy.standard();
        int found = Fuzz.same(legacy, policy, 6_000, () -> f.text(1, 6, () -> f.random.nextInt(3) == 0
                ? other(f) : phone(f)));
        assertThat(found).isGreaterThan(1_500);
    }

    @Test
    void findsWhatTheFormerVersionFoundOnEveryExampleNumber() {
        PiiPolicy policy = PiiPolicy.standard();
        LegacyPiiPolicy legacy = LegacyPiiPolicy.standard();
        int i = 0;
        for (String number : NUMBERS) {
            String text = (i++ % 2 == 0 ? "call " : "") + number + (i % 3 == 0 ? " today" : "");
            PolicyInput input = PolicyInput.of(PolicyPhase.POST, text);
            assertThat(policy.check(input)).as(text).isEqualTo(legacy.check(input));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"JP", "BR,AU,ZA", "IT,RU,CN,KR", "AR,MX,GG,JE", "CA,SM,NF,MG", "US"})
    void findsWhatTheFormerVersionFoundInOtherRegions(String regions) {
        Fuzz f = new Fuzz(regions.hashCode());
        String[] codes = regions.split(",");
        PiiPolicy policy = PiiPolicy.builder().kinds(PiiPolicy.Kind.PHONE).regions(codes).build();
        LegacyPiiPolicy legacy = LegacyPiiPolicy.builder().kinds(LegacyPiiPolicy.Kind.PHONE).regions(codes).build();
        Fuzz.same(legacy, policy, 1_500, () -> f.text(1, 4, () -> phone(f)));
        for (String number : NUMBERS) {
            PolicyInput input = PolicyInput.of(PolicyPhase.POST, "tel " + number + ".");
            assertThat(policy.check(input)).as(number).isEqualTo(legacy.check(input));
        }
    }

    @Test
    void findsWhatTheFormerVersionFoundOnRandomDigitSoup() {
        Fuzz f = new Fuzz(5);
        Fuzz.same(LegacyPiiPolicy.standard(), PiiPolicy.standard(), 4_000,
                () -> f.text(1, 20, () -> f.random(DIGITS + DIGITS + " .-/()+@" + UPPER.substring(0, 6) + "ab",
                        f.between(1, 40))));
    }

    @Test
    void ordinaryNumbersInProseAreNotGivenToLibphonenumberAndNotFound() {
        String text = "Order 48213 was delivered on 2026-03-14. Version 4.2.1 costs 1,299.00 dollars; about 38"
                + " percent replied by 10:30 on 14/03/2026 from 192.168.1.10, ticket #52731.";
        List<Finding> found = PiiPolicy.standard().check(PolicyInput.of(PolicyPhase.POST, text));
        assertThat(found).isEmpty();
        for (String piece : new String[] {" 48213 ", " 2026-03-14.", " 1,299.", " 14/03/2026 ", ",299.00 "}) {
            for (String region : PiiPolicy.DEFAULT_REGIONS) {
                assertThat(dev.parley.policy.internal.PhoneRegion.of(region).mayFind(dev.parley.policy.internal.PhoneRegion.Piece.of(piece))).as(piece + region)
                        .isFalse();
            }
        }
    }

    @Test
    void findsEachKindAtTheEdgesAndNextToPunctuation() {
        PiiPolicy policy = PiiPolicy.standard();
        for (String value : new String[] {"jane.doe@example.com", "4111111111111111", "4111 1111 1111 1111",
            "DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "+44 20 7946 0958"}) {
            for (String before : new String[] {"", " ", "(", "\"", "é ", "中 ", "😀 ", "\n"}) {
                for (String after : new String[] {"", " ", ")", ".", ",", " é", " 中", " 😀", "\n"}) {
                    if (!(before.equals("(") && value.startsWith("+"))) { // "(+44 ..." is a number whole
                        Texts.findsExactly(policy, before, value, after);
                    }
                }
            }
        }
    }

    @Test
    void manyNearMissesFindWhatTheFormerVersionFoundAndStayFast() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 200_000; i++) {
            b.append(switch (i % 8) {
                case 0 -> "@ ";
                case 1 -> "a@b ";
                case 2 -> "4111 1111 1111 1112 ";
                case 3 -> "DE00 1234 ";
                case 4 -> "order " + (30_000 + i % 9_000) + " ";
                case 5 -> "on 2026-03-" + (10 + i % 20) + " ";
                case 6 -> "v" + (i % 9) + "." + (i % 7) + "." + (i % 5) + " ";
                default -> "user@localhost ";
            });
        }
        String text = b.toString();
        PolicyInput input = PolicyInput.of(PolicyPhase.POST, text);
        long start = System.nanoTime();
        List<Finding> found = PiiPolicy.standard().check(input);
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
        assertThat(found).isEqualTo(LegacyPiiPolicy.standard().check(input));
    }
}
