package dev.parley.policy.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds international bank account numbers (ISO 13616): a country code, two check digits and the country's basic
 * bank account number, of exactly the length the IBAN registry gives that country, written whole
 * ({@code DE89370400440532013000}) or in the print format of groups of four separated by single spaces
 * ({@code DE89 3704 0044 0532 0130 00}), whose mod-97 checksum is 1. Letters may be in either case. A look-alike of
 * a country without IBANs, of the wrong length or with a wrong check is not one. Stateless and thread safe.
 */
public final class Ibans {
    /** The IBAN length of every country in the SWIFT IBAN registry (ISO 13616), release 2024. */
    private static final Map<String, Integer> LENGTHS = new HashMap<>();

    static {
        String table = "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 "
                + "DK18 DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 "
                + "IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 "
                + "MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 "
                + "SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30";
        for (String entry : table.split(" ")) {
            LENGTHS.put(entry.substring(0, 2), Integer.parseInt(entry.substring(2)));
        }
    }

    private Ibans() {
    }

    /** The IBAN length of a country (upper-case code), or 0 for a country without IBANs. */
    public static int length(String country) {
        return LENGTHS.getOrDefault(country, 0);
    }

    /** The countries with IBANs, upper case. */
    public static java.util.Set<String> countries() {
        return java.util.Collections.unmodifiableSet(LENGTHS.keySet());
    }

    /** The IBANs in {@code text}, in order; each span's label is its country code. */
    public static List<Span> find(String text) {
        List<Span> out = new ArrayList<>();
        int n = text.length();
        StringBuilder iban = new StringBuilder(34);
        for (int i = 0; i + 15 <= n; i++) {
            char c0 = text.charAt(i);
            if (!isAsciiLetter(c0) || !isAsciiLetter(text.charAt(i + 1)) || !isDigit(text.charAt(i + 2))
                    || !isDigit(text.charAt(i + 3))) {
                continue;
            }
            if (i > 0 && Character.isLetterOrDigit(text.charAt(i - 1))) {
                continue;
            }
            String country = ("" + c0 + text.charAt(i + 1)).toUpperCase(java.util.Locale.ROOT);
            int length = length(country);
            if (length == 0) {
                continue;
            }
            iban.setLength(0);
            int j = i;
            Boolean spaced = null;
            while (j < n && iban.length() < length) {
                char c = text.charAt(j);
                if (c == ' ' && iban.length() % 4 == 0 && iban.length() > 0 && j + 1 < n
                        && isAsciiLetterOrDigit(text.charAt(j + 1))) {
                    if (spaced == null) {
                        spaced = iban.length() == 4;
                    }
                    if (!spaced) {
                        break;
                    }
                    j++;
                    continue;
                }
                if (!isAsciiLetterOrDigit(c)) {
                    break;
                }
                if (spaced == null && iban.length() == 4) {
                    spaced = false;
                }
                if (Boolean.TRUE.equals(spaced) && iban.length() % 4 == 0 && text.charAt(j - 1) != ' ') {
                    break; // a group of more than four in the print format
                }
                iban.append(Character.toUpperCase(c));
                j++;
            }
            if (iban.length() != length || (j < n && Character.isLetterOrDigit(text.charAt(j)))) {
                continue;
            }
            if (isValid(iban)) {
                out.add(new Span(i, j, country));
                i = j - 1;
            }
        }
        return out;
    }

    /** Whether an IBAN in electronic format (upper case, no spaces) has a known length and a valid check. */
    public static boolean isValid(CharSequence iban) {
        if (iban.length() < 15 || iban.length() > 34) {
            return false;
        }
        String country = iban.subSequence(0, 2).toString();
        if (length(country) != iban.length()) {
            return false;
        }
        int check = (iban.charAt(2) - '0') * 10 + (iban.charAt(3) - '0');
        if (check < 2 || check > 98) {
            return false; // 98 - (n mod 97) is always 2 to 98
        }
        return mod97(iban) == 1;
    }

    /** The ISO 7064 mod-97 of an IBAN: its first four characters moved to the end, letters as 10 to 35. */
    public static int mod97(CharSequence iban) {
        int rem = 0;
        int n = iban.length();
        for (int k = 0; k < n; k++) {
            char c = iban.charAt((k + 4) % n);
            if (isDigit(c)) {
                rem = (rem * 10 + (c - '0')) % 97;
            } else if (c >= 'A' && c <= 'Z') {
                rem = (rem * 100 + (c - 'A' + 10)) % 97;
            } else {
                return -1;
            }
        }
        return rem;
    }

    private static boolean isAsciiLetter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return isAsciiLetter(c) || isDigit(c);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
