package dev.parley.policy.internal;

import com.google.i18n.phonenumbers.PhoneNumberMatch;
import com.google.i18n.phonenumbers.PhoneNumberUtil;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Finds phone numbers with Google's libphonenumber: {@link PhoneNumberUtil#findNumbers} at
 * {@link PhoneNumberUtil.Leniency#VALID} (a number valid for its region's numbering plan, not merely well formed)
 * once per region, so that national formats of each region and international ({@code +}) numbers of every region
 * are found. Only the parts of the text where digits cluster (six or more digits, at most six characters apart)
 * are handed to libphonenumber, so prose costs one cheap pass. Overlapping matches of several regions keep the
 * longest. A number right after {@code #} (an order or issue number) is not one. Stateless and thread safe;
 * libphonenumber loads its metadata on first use.
 */
public final class Phones {
    private static final int MIN_DIGITS = 6;
    private static final int MAX_GAP = 6;
    private static final int MARGIN_BEFORE = 8;
    private static final int MARGIN_AFTER = 16;

    private Phones() {
    }

    /**
     * The phone numbers in {@code text}, in order.
     *
     * @param regions CLDR region codes ({@code US}, {@code GB}); an empty list finds international numbers only
     */
    public static List<Span> find(String text, List<String> regions) {
        List<int[]> windows = windows(text);
        if (windows.isEmpty()) {
            return List.of();
        }
        PhoneNumberUtil util = PhoneNumberUtil.getInstance();
        List<String> passes = regions.isEmpty() ? List.of("ZZ") : regions;
        List<Span> all = new ArrayList<>();
        for (int[] w : windows) {
            String part = text.substring(w[0], w[1]);
            for (String region : passes) {
                for (PhoneNumberMatch m : util.findNumbers(part, region, PhoneNumberUtil.Leniency.VALID,
                        Long.MAX_VALUE)) {
                    int start = w[0] + m.start();
                    int end = w[0] + m.end();
                    if (start > 0 && text.charAt(start - 1) == '#') {
                        continue;
                    }
                    all.add(new Span(start, end, "phone number"));
                }
            }
        }
        return longestFirst(all);
    }

    /** Keeps the longest of overlapping spans, in order of start. */
    static List<Span> longestFirst(List<Span> all) {
        if (all.size() <= 1) {
            return all;
        }
        all.sort(Comparator.comparingInt((Span s) -> s.end() - s.start()).reversed());
        List<Span> kept = new ArrayList<>();
        for (Span s : all) {
            if (kept.stream().noneMatch(k -> k.overlaps(s.start(), s.end()))) {
                kept.add(s);
            }
        }
        kept.sort(Comparator.comparingInt(Span::start));
        return kept;
    }

    /** The parts of the text where digits cluster, with a margin for a leading "+" or "(" and an extension. */
    private static List<int[]> windows(String text) {
        List<int[]> out = new ArrayList<>();
        int n = text.length();
        int first = -1;
        int last = -1;
        int count = 0;
        for (int i = 0; i <= n; i++) {
            boolean digit = i < n && isDigit(text.charAt(i));
            if (digit && first >= 0 && i - last > MAX_GAP) {
                close(out, n, first, last, count);
                first = -1;
            }
            if (digit) {
                if (first < 0) {
                    first = i;
                    count = 0;
                }
                last = i;
                count++;
            }
            if (i == n && first >= 0) {
                close(out, n, first, last, count);
            }
        }
        return out;
    }

    private static void close(List<int[]> out, int n, int first, int last, int count) {
        if (count < MIN_DIGITS) {
            return;
        }
        int s = Math.max(0, first - MARGIN_BEFORE);
        int e = Math.min(n, last + 1 + MARGIN_AFTER);
        if (!out.isEmpty() && out.get(out.size() - 1)[1] >= s) {
            out.get(out.size() - 1)[1] = e;
        } else {
            out.add(new int[] {s, e});
        }
    }

    /** ASCII and fullwidth digits, both of which libphonenumber reads. */
    private static boolean isDigit(char c) {
        return (c >= '0' && c <= '9') || (c >= '\uFF10' && c <= '\uFF19') || Character.isDigit(c);
    }
}
