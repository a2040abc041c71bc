package dev.parley.policy.internal;

import java.text.Normalizer;
import java.util.Locale;

/**
 * A text NFKC-normalized and lower-cased ({@link Locale#ROOT}), with each folded character's span in the original
 * text, so that a match in the folded text maps back to the original even where folding changed lengths
 * (fullwidth letters, ligatures, the dotted capital I). Immutable. Not API.
 */
public final class Folded {
    private final String original;
    private final String text;
    private final int[] from;
    private final int[] to;

    private Folded(String original, String text, int[] from, int[] to) {
        this.original = original;
        this.text = text;
        this.from = from;
        this.to = to;
    }

    /** Folds {@code original}, a base character and its combining marks at a time. */
    public static Folded of(String original) {
        int n = original.length();
        StringBuilder out = new StringBuilder(n + 16);
        int[] from = new int[n + 16];
        int[] to = new int[n + 16];
        int i = 0;
        while (i < n) {
            int start = i;
            i += Character.charCount(original.codePointAt(i));
            while (i < n && isMark(original.codePointAt(i))) {
                i += Character.charCount(original.codePointAt(i));
            }
            String segment = original.substring(start, i);
            String folded = isAsciiLetterOrDigitOrSpace(segment) ? segment.toLowerCase(Locale.ROOT)
                    : Normalizer.normalize(segment, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
            if (out.length() + folded.length() > from.length) {
                int size = Math.max(from.length * 2, out.length() + folded.length());
                from = java.util.Arrays.copyOf(from, size);
                to = java.util.Arrays.copyOf(to, size);
            }
            for (int k = 0; k < folded.length(); k++) {
                from[out.length() + k] = start;
                to[out.length() + k] = i;
            }
            out.append(folded);
        }
        return new Folded(original, out.toString(), from, to);
    }

    private static boolean isAsciiLetterOrDigitOrSpace(String s) {
        return s.length() == 1 && s.charAt(0) < 0x80;
    }

    private static boolean isMark(int cp) {
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK;
    }

    /** The folded text. */
    public String text() {
        return text;
    }

    /** The original text. */
    public String original() {
        return original;
    }

    /** Where the folded span starting at {@code foldedStart} starts in the original. */
    public int originalStart(int foldedStart) {
        if (foldedStart >= text.length()) {
            return original.length();
        }
        return from[foldedStart];
    }

    /** Where the folded span ending at {@code foldedEnd} (exclusive) ends in the original. */
    public int originalEnd(int foldedEnd) {
        if (foldedEnd <= 0) {
            return 0;
        }
        return to[foldedEnd - 1];
    }
}
