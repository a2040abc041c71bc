package dev.parley.policy.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds payment card numbers: 13 to 19 digits, alone or in groups joined by single spaces or single dashes (one kind
 * per number), that pass the Luhn check and start with an issuer identification number of a known network with a
 * length that network issues. A number inside a longer run of digits, or joined to letters, a decimal point or a
 * {@code +}, is not one. Stateless and thread safe.
 */
public final class PaymentCards {
    /** A range of issuer prefixes of one network and the lengths it issues. */
    private record Network(String name, int from, int to, int prefixDigits, int minLength, int maxLength,
                           int[] lengths) {
        boolean accepts(String digits) {
            int len = digits.length();
            if (len < minLength || len > maxLength) {
                return false;
            }
            if (lengths.length > 0) {
                boolean ok = false;
                for (int l : lengths) {
                    ok |= l == len;
                }
                if (!ok) {
                    return false;
                }
            }
            int prefix = Integer.parseInt(digits, 0, prefixDigits, 10);
            return prefix >= from && prefix <= to;
        }
    }

    private static Network n(String name, int from, int to, int min, int max, int... lengths) {
        return new Network(name, from, to, Integer.toString(from).length(), min, max, lengths);
    }

    /** The networks, narrower ranges first so that the name is the most specific one. */
    private static final List<Network> NETWORKS = List.of(
            n("Mir", 2200, 2204, 16, 19),
            n("Mastercard", 2221, 2720, 16, 16),
            n("Diners Club", 300, 305, 14, 19),
            n("Diners Club", 3095, 3095, 14, 19),
            n("American Express", 34, 34, 15, 15),
            n("American Express", 37, 37, 15, 15),
            n("JCB", 3528, 3589, 16, 19),
            n("Diners Club", 36, 36, 14, 19),
            n("Diners Club", 38, 39, 14, 19),
            n("Visa", 4, 4, 13, 19, 13, 16, 19),
            n("Mastercard", 51, 55, 16, 16),
            n("Maestro", 50, 50, 13, 19),
            n("Maestro", 56, 58, 13, 19),
            n("Discover", 6011, 6011, 16, 19),
            n("Discover", 622126, 622925, 16, 19),
            n("Discover", 644, 649, 16, 19),
            n("Discover", 65, 65, 16, 19),
            n("UnionPay", 62, 62, 16, 19),
            n("RuPay", 60, 60, 16, 16),
            n("RuPay", 81, 82, 16, 16),
            n("Maestro", 6304, 6304, 13, 19),
            n("Maestro", 6759, 6759, 13, 19),
            n("Maestro", 6761, 6763, 13, 19),
            n("Troy", 9792, 9792, 16, 16));

    private PaymentCards() {
    }

    /** Whether {@code text} could hold a card number at all: 13 digits or more. A cheap pre-filter. */
    public static boolean mayContain(String text) {
        int digits = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= '0' && c <= '9' && ++digits >= 13) {
                return true;
            }
        }
        return false;
    }

    /** The card numbers in {@code text}, in order; each span's label names the network. */
    public static List<Span> find(String text) {
        List<Span> out = new ArrayList<>();
        int n = text.length();
        int i = 0;
        List<int[]> groups = new ArrayList<>();
        while (i < n) {
            if (!isDigit(text.charAt(i))) {
                i++;
                continue;
            }
            groups.clear();
            char sep = 0;
            int j = i;
            while (true) {
                int gs = j;
                while (j < n && isDigit(text.charAt(j))) {
                    j++;
                }
                groups.add(new int[] {gs, j});
                if (j + 1 < n && (text.charAt(j) == ' ' || text.charAt(j) == '-') && isDigit(text.charAt(j + 1))
                        && (sep == 0 || sep == text.charAt(j)) && groups.size() < 12) {
                    sep = text.charAt(j);
                    j++;
                    continue;
                }
                break;
            }
            int runStart = i;
            int runEnd = j;
            i = j;
            if (!boundaryBefore(text, runStart) || !boundaryAfter(text, runEnd)) {
                continue;
            }
            scanGroups(text, groups, out);
        }
        return out;
    }

    private static void scanGroups(String text, List<int[]> groups, List<Span> out) {
        int a = 0;
        while (a < groups.size()) {
            int best = -1;
            String bestNetwork = null;
            int digits = 0;
            for (int b = a; b < groups.size(); b++) {
                digits += groups.get(b)[1] - groups.get(b)[0];
                if (digits > 19) {
                    break;
                }
                if (digits >= 13) {
                    String network = validate(digitsOf(text, groups, a, b));
                    if (network != null) {
                        best = b;
                        bestNetwork = network;
                    }
                }
            }
            if (best >= 0) {
                out.add(new Span(groups.get(a)[0], groups.get(best)[1], bestNetwork));
                a = best + 1;
            } else {
                a++;
            }
        }
    }

    private static String digitsOf(String text, List<int[]> groups, int a, int b) {
        StringBuilder s = new StringBuilder(19);
        for (int g = a; g <= b; g++) {
            s.append(text, groups.get(g)[0], groups.get(g)[1]);
        }
        return s.toString();
    }

    /** The network of a Luhn-valid number of a known range and length; null otherwise. */
    public static String validate(String digits) {
        if (digits.length() < 13 || digits.length() > 19 || !luhn(digits)) {
            return null;
        }
        for (Network network : NETWORKS) {
            if (network.accepts(digits)) {
                return network.name();
            }
        }
        return null;
    }

    /** Whether a string of digits passes the Luhn (mod 10) check. */
    public static boolean luhn(CharSequence digits) {
        int sum = 0;
        boolean doubled = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (doubled) {
                d *= 2;
                if (d > 9) {
                    d -= 9;
                }
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    private static boolean boundaryBefore(String text, int start) {
        if (start == 0) {
            return true;
        }
        char c = text.charAt(start - 1);
        if (Character.isLetterOrDigit(c) || c == '+' || c == '_') {
            return false;
        }
        return !((c == '.' || c == ',') && start >= 2 && isDigit(text.charAt(start - 2)));
    }

    private static boolean boundaryAfter(String text, int end) {
        if (end == text.length()) {
            return true;
        }
        char c = text.charAt(end);
        if (Character.isLetterOrDigit(c) || c == '_') {
            return false;
        }
        return !((c == '.' || c == ',') && end + 1 < text.length() && isDigit(text.charAt(end + 1)));
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }
}
