package dev.parley.policy.internal;

import java.text.Normalizer;
import java.util.Arrays;
import java.util.Locale;

/**
 * A text folded for case- and width-insensitive matching, with a map from each folded character back to the
 * original characters it came from, so that a match in the folded text is reported as a span of the original.
 *
 * <p>Folding, per grapheme-like segment (a character and the combining marks after it): Unicode NFKC
 * ({@link Normalizer.Form#NFKC}: fullwidth letters to ASCII, ligatures such as "ﬁ" to "fi", compatibility forms to
 * their plain characters, a base and its combining accent to the precomposed letter), then
 * {@link String#toLowerCase(Locale) toLowerCase(Locale.ROOT)}, then a few foldings that lower-casing alone does not
 * do: "ß" (and "ẞ") to "ss", final sigma "ς" to "σ", the Turkish dotless "ı" and dotted "İ" both to "i". Format
 * characters (zero-width space and joiners, soft hyphen, byte order mark) are dropped, so that they cannot split a
 * word. Other diacritics are kept: "café" does not fold to "cafe".
 *
 * <p>A text of ASCII only is folded by lower-casing it, with no map (offsets are the same). Immutable and thread
 * safe.
 */
public final class FoldedText {
    private final String original;
    private final String folded;
    /** The original start of each folded character's segment; null when offsets are the same. */
    private final int[] starts;
    /** The original end of each folded character's segment; null when offsets are the same. */
    private final int[] ends;

    private FoldedText(String original, String folded, int[] starts, int[] ends) {
        this.original = original;
        this.folded = folded;
        this.starts = starts;
        this.ends = ends;
    }

    /** Folds {@code text}. */
    public static FoldedText of(String text) {
        int n = text.length();
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            if (text.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new FoldedText(text, asciiLower(text), null, null);
        }
        StringBuilder out = new StringBuilder(n + 16);
        int[] starts = new int[n + 16];
        int[] ends = new int[n + 16];
        int i = 0;
        while (i < n) {
            char c = text.charAt(i);
            if (c < 0x80 && (i + 1 == n || text.charAt(i + 1) < 0x80)) {
                starts = grow(starts, out.length());
                ends = grow(ends, out.length());
                starts[out.length()] = i;
                ends[out.length()] = i + 1;
                out.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : c);
                i++;
                continue;
            }
            int segStart = i;
            i += Character.charCount(text.codePointAt(i));
            while (i < n) {
                int next = text.codePointAt(i);
                if (!isCombining(next)) {
                    break;
                }
                i += Character.charCount(next);
            }
            String f = foldSegment(text.substring(segStart, i));
            for (int k = 0; k < f.length(); k++) {
                starts = grow(starts, out.length());
                ends = grow(ends, out.length());
                starts[out.length()] = segStart;
                ends[out.length()] = i;
                out.append(f.charAt(k));
            }
        }
        return new FoldedText(text, out.toString(), starts, ends);
    }

    /** Folds a short text on its own (a deny-list word): the folded string only. */
    public static String fold(String text) {
        return of(text).folded();
    }

    /**
     * The same folding with light leetspeak undone, character for character (offsets unchanged): 0 to o, 1 to i,
     * 3 to e, 4 to a, 5 to s, 7 to t, @ to a, $ to s. For heuristics that look for words, never for deny lists.
     */
    public FoldedText unleet() {
        int first = 0;
        while (first < folded.length() && !isLeet(folded.charAt(first))) {
            first++;
        }
        if (first == folded.length()) {
            return this; // nothing to undo: spare the copy
        }
        char[] chars = folded.toCharArray();
        boolean changed = false;
        for (int i = first; i < chars.length; i++) {
            char c = switch (chars[i]) {
                case '0' -> 'o';
                case '1' -> 'i';
                case '3' -> 'e';
                case '4' -> 'a';
                case '5' -> 's';
                case '7' -> 't';
                case '@' -> 'a';
                case '$' -> 's';
                default -> chars[i];
            };
            changed |= c != chars[i];
            chars[i] = c;
        }
        return changed ? new FoldedText(original, new String(chars), starts, ends) : this;
    }

    private static boolean isLeet(char c) {
        return switch (c) {
            case '0', '1', '3', '4', '5', '7', '@', '$' -> true;
            default -> false;
        };
    }

    /** The text as given. */
    public String original() {
        return original;
    }

    /** The folded text, which matches run against. */
    public String folded() {
        return folded;
    }

    /** The original offset where the folded character at {@code foldedStart} begins. */
    public int originalStart(int foldedStart) {
        if (starts == null) {
            return foldedStart;
        }
        return foldedStart >= folded.length() ? original.length() : starts[foldedStart];
    }

    /** The original offset where a folded span ending at {@code foldedEnd} (exclusive) ends. */
    public int originalEnd(int foldedEnd) {
        if (ends == null) {
            return foldedEnd;
        }
        return foldedEnd <= 0 ? originalStart(0) : ends[foldedEnd - 1];
    }

    private static String asciiLower(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                char[] chars = text.toCharArray();
                for (int k = i; k < chars.length; k++) {
                    char d = chars[k];
                    if (d >= 'A' && d <= 'Z') {
                        chars[k] = (char) (d + 32);
                    }
                }
                return new String(chars);
            }
        }
        return text;
    }

    private static String foldSegment(String segment) {
        int first = segment.codePointAt(0);
        if (Character.getType(first) == Character.FORMAT && segment.length() == Character.charCount(first)) {
            return ""; // zero-width space, joiners, soft hyphen, BOM: invisible, and would split a word
        }
        String s = Normalizer.normalize(segment, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
        boolean special = false;
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == 'ß' || c == 'ς' || c == 'ı' || c == '\u0307' || Character.getType(c) == Character.FORMAT) {
                special = true;
                break;
            }
        }
        if (!special) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 2);
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case 'ß' -> b.append("ss");
                case 'ς' -> b.append('σ');
                case 'ı' -> b.append('i');
                case '\u0307' -> {
                    // "İ" lower-cases to "i" + combining dot above: the dot goes, so it matches "i"
                    if (b.length() == 0 || b.charAt(b.length() - 1) != 'i') {
                        b.append(c);
                    }
                }
                default -> {
                    if (Character.getType(c) != Character.FORMAT) {
                        b.append(c);
                    }
                }
            }
        }
        return b.toString();
    }

    private static boolean isCombining(int codePoint) {
        int type = Character.getType(codePoint);
        return type == Character.NON_SPACING_MARK || type == Character.ENCLOSING_MARK
                || type == Character.COMBINING_SPACING_MARK;
    }

    private static int[] grow(int[] a, int index) {
        return index < a.length ? a : Arrays.copyOf(a, a.length * 2 + 16);
    }

    /** Lengths only, never the text. */
    @Override
    public String toString() {
        return "FoldedText{chars=" + original.length() + ", folded=" + folded.length() + "}";
    }
}
