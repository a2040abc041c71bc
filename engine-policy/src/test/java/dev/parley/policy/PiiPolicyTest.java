package dev.parley.policy;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.Checksums;
import dev.parley.policy.internal.PiiPolicyFactory;

import java.math.BigInteger;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.parley.policy.Texts.DIGITS;
import static dev.parley.policy.Texts.check;
import static dev.parley.policy.Texts.findsExactly;
import static dev.parley.policy.Texts.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PiiPolicyTest {
    private final PiiPolicy policy = PiiPolicy.standard();

    /** A Luhn-valid number of {@code length} digits starting with {@code prefix}. */
    static String card(String prefix, int length) {
        String body = prefix + random(DIGITS, length - prefix.length() - 1);
        for (int d = 0; d <= 9; d++) {
            if (Checksums.luhn(body + d)) {
                return body + d;
            }
        }
        throw new AssertionError();
    }

    /** The same number with its check digit wrong. */
    static String breakLuhn(String number) {
        int last = number.charAt(number.length() - 1) - '0';
        return number.substring(0, number.length() - 1) + (last + 1) % 10;
    }

    /** A mod-97-valid IBAN of {@code country} with a random numeric BBAN of the registry's length. */
    static String iban(String country) {
        String bban = random(DIGITS, Checksums.ibanLength(country) - 4);
        String rearranged = bban + (country.charAt(0) - 'A' + 10) + (country.charAt(1) - 'A' + 10) + "00";
        int check = 98 - new BigInteger(rearranged).mod(BigInteger.valueOf(97)).intValue();
        return country + String.format("%02d", check) + bban;
    }

    static String grouped(String compact, String sep) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < compact.length(); i += 4) {
            if (i > 0) {
                b.append(sep);
            }
            b.append(compact, i, Math.min(compact.length(), i + 4));
        }
        return b.toString();
    }

    static Stream<String> cards() {
        return Stream.of(card("4", 16), card("4", 13), card("4", 19), card("51", 16), card("55", 16),
                card("2221", 16), card("2720", 16), card("34", 15), card("37", 15), card("6011", 16), card("65", 16),
                card("644", 16), card("3528", 16), card("3589", 19), card("36", 14), card("300", 14),
                card("62", 16), card("6759", 18));
    }

    @ParameterizedTest
    @MethodSource("cards")
    void findsLuhnValidCardsOfEachNetwork(String number) {
        Finding f = findsExactly(policy, "card: ", number, ", thanks");
        assertThat(f.category()).isEqualTo(Finding.PII_CARD);
        if (number.length() == 16) {
            findsExactly(policy, "card ", grouped(number, " "), ".");
            findsExactly(policy, "card ", grouped(number, "-"), ".");
        }
    }

    @ParameterizedTest
    @MethodSource("cards")
    void leavesLuhnFailingLookAlikesAlone(String number) {
        assertThat(check(policy, "card: " + breakLuhn(number) + " ok").stream()
                .filter(f -> f.category().equals(Finding.PII_CARD))).isEmpty();
    }

    @Test
    void knownTestCardsAreFound() {
        for (String n : List.of("4111111111111111", "5555555555554444", "378282246310005", "6011111111111117",
                "3530111333300000", "30569309025904", "4012888888881881")) {
            assertThat(check(policy, "pay with " + n).stream().map(Finding::category)).containsExactly(
                    Finding.PII_CARD);
        }
    }

    @Test
    void cardDigitsInsideLongerRunsOrWithUnknownPrefixesAreNotCards() {
        String visa = card("4", 16);
        assertThat(check(policy, "ref 9" + visa)).noneMatch(f -> f.category().equals(Finding.PII_CARD));
        assertThat(check(policy, "ref " + visa + "1")).noneMatch(f -> f.category().equals(Finding.PII_CARD));
        assertThat(check(policy, "order " + card("9", 16))).noneMatch(f -> f.category().equals(Finding.PII_CARD));
        assertThat(check(policy, "card " + card("4", 15))).noneMatch(f -> f.category().equals(Finding.PII_CARD));
    }

    @ParameterizedTest
    @ValueSource(strings = {"DE", "GB", "FR", "NL", "NO", "MT", "ES", "IT", "CH", "RU"})
    void findsMod97ValidIbans(String country) {
        String iban = iban(country);
        assertThat(Checksums.ibanMod97(iban)).isTrue();
        Finding f = findsExactly(policy, "IBAN ", iban, " please");
        assertThat(f.category()).isEqualTo(Finding.PII_IBAN);
        findsExactly(policy, "IBAN: ", grouped(iban, " "), ". BIC ABCDEFGH");
    }

    @Test
    void knownIbansAreFound() {
        findsExactly(policy, "to ", "GB82 WEST 1234 5698 7654 32", " BIC NWBKGB2L");
        findsExactly(policy, "to ", "DE89370400440532013000", "");
    }

    @Test
    void ibanLookAlikesAreNotFound() {
        String iban = iban("DE");
        String wrongCheck = iban.substring(0, 2) + String.format("%02d", (Integer.parseInt(iban.substring(2, 4)) + 1)
                % 100) + iban.substring(4);
        assertThat(check(policy, "IBAN " + wrongCheck)).isEmpty();
        assertThat(check(policy, "IBAN " + iban.substring(0, iban.length() - 1))).isEmpty();
        assertThat(check(policy, "IBAN " + iban + "7")).isEmpty();
        assertThat(check(policy, "code XX12" + random(DIGITS, 18))).isEmpty();
        assertThat(check(policy, "IBAN " + grouped(iban, "  "))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"jane.doe@example.com", "j+tag@mail.example.co.uk", "x_y-z@sub-domain.example.org",
            "O'Brien@example.ie"})
    void findsEmailAddresses(String address) {
        Finding f = findsExactly(policy, "write to ", address, ". Bye");
        assertThat(f.category()).isEqualTo(Finding.PII_EMAIL);
        assertThat(f.reason()).doesNotContain("@");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a@b", "user@localhost", "see @mention on twitter", "foo@bar.", "@example.com",
            "import x from '@scope/pkg'"})
    void leavesEmailLookAlikesAlone(String text) {
        assertThat(check(policy, text)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"US", "GB", "DE", "FR", "IN"})
    void findsExampleNumbersOfTheDefaultRegions(String region) {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        Phonenumber.PhoneNumber n = util.getExampleNumber(region);
        String national = util.format(n, PhoneNumberUtil.PhoneNumberFormat.NATIONAL);
        String international = util.format(n, PhoneNumberUtil.PhoneNumberFormat.INTERNATIONAL);
        assertThat(findsExactly(policy, "call ", national, " today").category()).isEqualTo(Finding.PII_PHONE);
        findsExactly(policy, "call ", international, " today");
    }

    @ParameterizedTest
    @ValueSource(strings = {"JP", "BR", "AU", "ZA"})
    void findsInternationalNumbersOfAnyRegion(String region) {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        String international = util.format(util.getExampleNumber(region),
                PhoneNumberUtil.PhoneNumberFormat.INTERNATIONAL);
        findsExactly(policy, "call ", international, " today");
    }

    @Test
    void nationalNumbersOfOtherRegionsNeedTheirRegion() {
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        String national = util.format(util.getExampleNumber("JP"), PhoneNumberUtil.PhoneNumberFormat.NATIONAL);
        PiiPolicy japan = PiiPolicy.builder().kinds(PiiPolicy.Kind.PHONE).regions("jp").build();
        findsExactly(japan, "call ", national, " today");
    }

    @ParameterizedTest
    @ValueSource(strings = {"Version 1.2.3 shipped on 2024-05-06.", "Order number 12345 is on its way.",
            "It costs 1,299.00 dollars and weighs 12 kg.", "Call me at 123.", "pi is 3.14159265"})
    void leavesProseWithNumbersAlone(String text) {
        assertThat(check(policy, text)).isEmpty();
    }

    @Test
    void kindsCanBeChosen() {
        String text = "mail jane@example.com or card 4111111111111111";
        PiiPolicy emails = PiiPolicy.builder().kinds(PiiPolicy.Kind.EMAIL).id("mails").build();
        assertThat(check(emails, text)).singleElement().extracting(Finding::category).isEqualTo(Finding.PII_EMAIL);
        assertThat(check(policy, text)).extracting(Finding::category)
                .containsExactly(Finding.PII_EMAIL, Finding.PII_CARD);
    }

    @Test
    void badConfigurationNamesTheField() {
        assertThatThrownBy(() -> PiiPolicy.builder().kinds()).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("kinds");
        assertThatThrownBy(() -> PiiPolicy.builder().regions("XX")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("regions");
        assertThatThrownBy(() -> PiiPolicy.builder().regions()).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("regions");
        assertThatThrownBy(() -> PiiPolicy.builder().id("UPPER")).isInstanceOf(InvalidRequestException.class)
                .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("id");
        assertThatThrownBy(() -> PiiPolicy.builder().regions("US").regions("GB"))
                .isInstanceOf(IllegalStateException.class);
        assertThat(policy.withId("p2").id()).isEqualTo("p2");
        assertThat(policy.id()).isEqualTo("pii");
        assertThat(policy.maxSpan()).isLessThanOrEqualTo(Policy.DEFAULT_MAX_SPAN);
    }

    @Test
    void factoryReadsKindsAndRegions() {
        PiiPolicyFactory factory = new PiiPolicyFactory();
        assertThat(factory.kind()).isEqualTo("pii");
        PiiPolicy p = (PiiPolicy) factory.create(PolicySpec.builder("my-pii", "pii").parameter("kinds", "email, card")
                .parameter("regions", "US,jp").build());
        assertThat(p.id()).isEqualTo("my-pii");
        assertThat(p.kinds()).containsExactlyInAnyOrder(PiiPolicy.Kind.EMAIL, PiiPolicy.Kind.CARD);
        assertThat(p.regions()).containsExactly("US", "JP");
        assertThat(factory.create(PolicySpec.builder("all", "pii").build()).id()).isEqualTo("all");
        for (String[] bad : new String[][] {{"kinds", "email,fax"}, {"kinds", " , "}, {"regions", "US,QQ"},
                {"colour", "blue"}}) {
            assertThatThrownBy(() -> factory.create(PolicySpec.builder("x", "pii").parameter(bad[0], bad[1]).build()))
                    .isInstanceOf(InvalidRequestException.class)
                    .extracting(e -> ((InvalidRequestException) e).field()).isEqualTo("parameters." + bad[0]);
        }
    }

    @Test
    void longInputIsCheckedQuickly() {
        String text = ("a.".repeat(5_000) + "@" + "b-".repeat(5_000) + " 4 ").repeat(3) 
                + "1 ".repeat(20_000) + "12 ".repeat(2_000);
        long start = System.nanoTime();
        check(policy, text);
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    }
}
