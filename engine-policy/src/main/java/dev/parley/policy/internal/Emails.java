package dev.parley.policy.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds e-mail addresses of a practical subset of RFC 5322: a dot-atom local part of at most 64 characters of
 * {@code A-Z a-z 0-9 . _ % + -} (no leading, trailing or doubled dot), {@code @}, and a domain of at least two
 * labels (letters, digits and inner hyphens, internationalized letters allowed) whose last label, the top-level
 * domain, is two or more letters ({@code com}, {@code рф}) or punycode ({@code xn--p1ai}); 254 characters at most.
 * Not found: {@code a@b}, {@code user@localhost}, {@code name@1.2.3.4}, {@code package@1.2.3}, the
 * {@code user:password@host} of a URL, and the {@code git@host:path} of an SSH remote. Quoted local parts and
 * address literals ({@code "a b"@x.org}, {@code a@[10.0.0.1]}) are not found either. The scan starts at each
 * {@code @} and reads outwards, so its cost is linear in the text. Stateless and thread safe.
 */
public final class Emails {
    /** The longest address (RFC 5321). */
    public static final int MAX_LENGTH = 254;

    private Emails() {
    }

    /** The addresses in {@code text}, in order. */
    public static List<Span> find(String text) {
        List<Span> out = new ArrayList<>();
        int from = 0;
        int at;
        while ((at = text.indexOf('@', from)) >= 0) {
            from = at + 1;
            int start = localStart(text, at);
            if (start < 0) {
                continue;
            }
            int end = domainEnd(text, at + 1);
            if (end < 0 || end - start > MAX_LENGTH) {
                continue;
            }
            if (end + 1 < text.length() && text.charAt(end) == ':' && !Character.isWhitespace(text.charAt(end + 1))) {
                continue; // git@github.com:org/repo.git
            }
            if (inUrlAuthority(text, start)) {
                continue;
            }
            out.add(new Span(start, end, "e-mail address"));
            from = end;
        }
        return out;
    }

    private static int localStart(String text, int at) {
        int s = at;
        while (s > 0 && isLocal(text.charAt(s - 1))) {
            s--;
            if (at - s > 64) {
                return -1;
            }
        }
        if (s > 0 && (Character.isLetterOrDigit(text.charAt(s - 1)) || text.charAt(s - 1) == '@')) {
            return -1; // joined to other letters (a non-ASCII local part we do not read)
        }
        int dots = text.lastIndexOf("..", at);
        if (dots >= s) {
            s = dots + 2;
        }
        while (s < at && text.charAt(s) == '.') {
            s++;
        }
        if (s == at || text.charAt(at - 1) == '.') {
            return -1;
        }
        return s;
    }

    /** The end of a valid domain starting at {@code start}, or -1. */
    private static int domainEnd(String text, int start) {
        int n = text.length();
        int e = start;
        while (e < n && e - start <= 253 && isDomain(text.charAt(e))) {
            e++;
        }
        // Labels, cut at a point where the domain stops being one.
        List<int[]> labels = new ArrayList<>();
        int ls = start;
        for (int i = start; i <= e; i++) {
            if (i == e || text.charAt(i) == '.') {
                if (i == ls) {
                    break; // empty label: a trailing dot, or ".."
                }
                labels.add(new int[] {ls, i});
                ls = i + 1;
            }
        }
        for (int[] label : labels) {
            if (!validLabel(text, label[0], label[1])) {
                int idx = labels.indexOf(label);
                labels = new ArrayList<>(labels.subList(0, idx));
                break;
            }
        }
        while (labels.size() >= 2) {
            int[] tld = labels.get(labels.size() - 1);
            int tldEnd = tldEnd(text, tld[0], tld[1]);
            if (tldEnd > 0) {
                return tldEnd;
            }
            labels.remove(labels.size() - 1);
        }
        return -1;
    }

    private static boolean validLabel(String text, int s, int e) {
        return e - s <= 63 && text.charAt(s) != '-' && text.charAt(e - 1) != '-';
    }

    /** Where a top-level domain label ends, or -1 when it is none. */
    private static int tldEnd(String text, int s, int e) {
        if (e - s >= 4 && text.regionMatches(true, s, "xn--", 0, 4)) {
            return e;
        }
        char first = text.charAt(s);
        boolean ascii = first < 0x80;
        int i = s;
        while (i < e) {
            char c = text.charAt(i);
            if (!Character.isLetter(c) && Character.getType(c) != Character.NON_SPACING_MARK
                    && Character.getType(c) != Character.COMBINING_SPACING_MARK) {
                return -1;
            }
            if ((c < 0x80) != ascii) {
                break; // "example.com" followed by letters of another script, with no space between
            }
            i++;
        }
        if (i - s < 2) {
            return -1;
        }
        if (i < e && (text.charAt(i) == '-')) {
            return -1;
        }
        return i;
    }

    private static boolean inUrlAuthority(String text, int start) {
        for (int i = start - 1; i >= 0 && start - i < 256; i--) {
            char c = text.charAt(i);
            if (Character.isWhitespace(c) || c == '"' || c == '\'' || c == '<' || c == '>') {
                return false;
            }
            if (c == '/' && i > 1 && text.charAt(i - 1) == '/' && text.charAt(i - 2) == ':') {
                return true;
            }
        }
        return false;
    }

    private static boolean isLocal(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                || c == '%' || c == '+' || c == '-';
    }

    private static boolean isDomain(char c) {
        if (c < 0x80) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
        }
        int type = Character.getType(c);
        return Character.isLetterOrDigit(c) || type == Character.NON_SPACING_MARK
                || type == Character.COMBINING_SPACING_MARK;
    }
}
