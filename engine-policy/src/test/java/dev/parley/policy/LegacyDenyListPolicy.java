package dev.parley.policy;

// DenyListPolicy as it was before its words were looked up without copying, kept unchanged as the oracle of
// DenyListEquivalenceTest: the new policy must find exactly what this finds.

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.DeadlineText;
import dev.parley.policy.internal.FoldedText;
import dev.parley.policy.internal.Ids;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Finds the words, phrases and patterns of a host's deny list ({@link Finding#DENY_LIST}), as whole words,
 * whatever their case and width.
 *
 * <p><b>Folding.</b> The text and the words are folded the same way before they are compared: Unicode NFKC
 * (fullwidth "ｆｏｏ" is "foo", the ligature "ﬁ" is "fi", a letter and its combining accent are the precomposed
 * letter), then lower case ({@code Locale.ROOT}), with "ß" as "ss", final "ς" as "σ", and both Turkish "ı" and
 * "İ" as "i" (so "KAPI", "kapı" and "kapi" are one word; a deny list cannot tell them apart). Zero-width
 * characters and soft hyphens are ignored, so they cannot split a word. Accents are kept: "café" is not "cafe".
 * Spans are of the original text, however folding changed its length.
 *
 * <p><b>Words</b> match whole: not preceded or followed by a letter, digit or combining mark (any script), so
 * "foo" is found in "FOO!" and "foo-bar" but not in "food" or "foobar". A phrase of several words matches with any
 * whitespace (up to 16 characters) between them: "top secret" matches "TOP   secret" and "top\nsecret". A word
 * may hold other characters ("c++", "x-rated"); they match exactly.
 *
 * <p><b>Patterns</b> are Java regular expressions, compiled with {@code CASE_INSENSITIVE | UNICODE_CASE} and run on
 * the folded text (so write them in lower case, without accents' decomposed forms), with the same whole-word
 * boundaries around each match. Each pattern is its own pass over the text; a pattern that backtracks past the
 * check's time budget is stopped and the check throws, so the rule's fail mode decides. A pattern that can match
 * the empty string is refused.
 *
 * <p>{@link #maxSpan()}: for words only, twice the longest folded word plus its whitespace allowance (at most
 * 256); with any pattern, 256. Immutable and thread safe.
 */
public final class LegacyDenyListPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "deny-list";

    private static final int MAX_GAP = 16;
    private static final String NOT_WORD = "[\\p{L}\\p{N}\\p{M}]";

    private final String id;
    private final int wordCount;
    private final int patternCount;
    /** Phrases of plain words by their first word. */
    private final Map<String, List<String[]>> phrases;
    /** The words with other characters than letters and digits, as one pattern; null when there are none. */
    private final Pattern special;
    private final List<Pattern> patterns;
    private final int maxSpan;

    private LegacyDenyListPolicy(String id, List<String> words, List<Pattern> patterns) {
        this.id = id;
        this.wordCount = words.size();
        this.patternCount = patterns.size();
        Map<String, List<String[]>> byFirst = new HashMap<>();
        List<String> specials = new ArrayList<>();
        int span = 1;
        for (String w : words) {
            String[] parts = w.split("\\s+");
            boolean plain = Arrays.stream(parts).allMatch(LegacyDenyListPolicy::isPlainWord);
            if (plain) {
                byFirst.computeIfAbsent(parts[0], k -> new ArrayList<>()).add(parts);
            } else {
                specials.add(w);
            }
            span = Math.max(span, 2 * w.length() + MAX_GAP * (parts.length - 1));
        }
        this.phrases = Map.copyOf(byFirst);
        if (specials.isEmpty()) {
            this.special = null;
        } else {
            specials.sort(Comparator.comparingInt(String::length).reversed());
            StringBuilder b = new StringBuilder("(?<!" + NOT_WORD + ")(?:");
            for (int i = 0; i < specials.size(); i++) {
                String[] parts = specials.get(i).split("\\s+");
                b.append(i == 0 ? "" : "|");
                for (int k = 0; k < parts.length; k++) {
                    b.append(k == 0 ? "" : "[\\s\\p{Z}]{1," + MAX_GAP + "}+").append(Pattern.quote(parts[k]));
                }
            }
            this.special = Pattern.compile(b.append(")(?!" + NOT_WORD + ")").toString());
        }
        this.patterns = List.copyOf(patterns);
        this.maxSpan = patterns.isEmpty() ? Math.min(DEFAULT_MAX_SPAN, span) : DEFAULT_MAX_SPAN;
    }

    /**
     * A deny list of words and phrases, with id {@value #DEFAULT_ID}.
     *
     * @throws InvalidRequestException naming {@code words} when there are none, or one is null or blank
     */
    public static LegacyDenyListPolicy words(String... words) {
        return builder().words(words == null ? null : Arrays.asList(words)).build();
    }

    /**
     * A deny list of regular expressions, with id {@value #DEFAULT_ID}.
     *
     * @throws InvalidRequestException naming {@code patterns} when there are none, or one is null, malformed or can
     *         match the empty string; the message gives the pattern's index
     */
    public static LegacyDenyListPolicy patterns(String... regexes) {
        return builder().patterns(regexes == null ? null : Arrays.asList(regexes)).build();
    }

    /** A deny list of words, patterns or both, and an id of the host's. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The same deny list with another id.
     *
     * @throws InvalidRequestException naming {@code id} when it is malformed
     */
    public LegacyDenyListPolicy withId(String newId) {
        return new LegacyDenyListPolicy(Ids.check(newId), this);
    }

    private LegacyDenyListPolicy(String id, LegacyDenyListPolicy other) {
        this.id = id;
        this.wordCount = other.wordCount;
        this.patternCount = other.patternCount;
        this.phrases = other.phrases;
        this.special = other.special;
        this.patterns = other.patterns;
        this.maxSpan = other.maxSpan;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxSpan() {
        return maxSpan;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        if (input.text().isEmpty()) {
            return List.of();
        }
        FoldedText t = FoldedText.of(input.text());
        String f = t.folded();
        List<Finding> found = new ArrayList<>();
        if (!phrases.isEmpty()) {
            matchPhrases(t, found);
        }
        if (special != null) {
            Matcher m = special.matcher(f);
            while (m.find()) {
                add(t, m.start(), m.end(), "deny-listed word", found);
            }
        }
        if (!patterns.isEmpty()) {
            Duration left = input.remaining();
            long deadline = left.compareTo(Duration.ofDays(1)) > 0 ? 0 : System.nanoTime() + left.toNanos();
            for (int i = 0; i < patterns.size(); i++) {
                CharSequence s = deadline == 0 ? f : new DeadlineText(f, deadline, "deny-list pattern " + i);
                Matcher m = patterns.get(i).matcher(s);
                while (m.find()) {
                    if (m.end() > m.start()) {
                        add(t, m.start(), m.end(), "deny-listed pattern " + i, found);
                    }
                }
            }
        }
        if (found.size() > 1) {
            found.sort(Comparator.comparingInt(Finding::start));
        }
        return found;
    }

    private void matchPhrases(FoldedText t, List<Finding> found) {
        String f = t.folded();
        int n = f.length();
        List<int[]> tokens = new ArrayList<>();
        int i = 0;
        while (i < n) {
            int cp = f.codePointAt(i);
            if (!isWordChar(cp)) {
                i += Character.charCount(cp);
                continue;
            }
            int s = i;
            while (i < n && isWordChar(f.codePointAt(i))) {
                i += Character.charCount(f.codePointAt(i));
            }
            tokens.add(new int[] {s, i});
        }
        for (int k = 0; k < tokens.size(); k++) {
            int[] tok = tokens.get(k);
            List<String[]> candidates = phrases.get(f.substring(tok[0], tok[1]));
            if (candidates == null) {
                continue;
            }
            int bestEnd = -1;
            for (String[] phrase : candidates) {
                int end = phraseEnd(f, tokens, k, phrase);
                bestEnd = Math.max(bestEnd, end);
            }
            if (bestEnd > 0) {
                add(t, tok[0], bestEnd, "deny-listed word", found);
            }
        }
    }

    /** Where {@code phrase} ends when it starts at token {@code k}, or -1. */
    private static int phraseEnd(String f, List<int[]> tokens, int k, String[] phrase) {
        if (k + phrase.length > tokens.size()) {
            return -1;
        }
        for (int p = 1; p < phrase.length; p++) {
            int[] prev = tokens.get(k + p - 1);
            int[] tok = tokens.get(k + p);
            if (tok[0] - prev[1] > MAX_GAP || !f.regionMatches(tok[0], phrase[p], 0, phrase[p].length())
                    || tok[1] - tok[0] != phrase[p].length()) {
                return -1;
            }
            for (int c = prev[1]; c < tok[0]; c++) {
                if (!Character.isWhitespace(f.charAt(c)) && !Character.isSpaceChar(f.charAt(c))) {
                    return -1;
                }
            }
        }
        return tokens.get(k + phrase.length - 1)[1];
    }

    private void add(FoldedText t, int foldedStart, int foldedEnd, String reason, List<Finding> found) {
        found.add(new Finding(t.originalStart(foldedStart), t.originalEnd(foldedEnd), Finding.DENY_LIST, id, reason));
    }

    private static boolean isPlainWord(String w) {
        return w.codePoints().allMatch(LegacyDenyListPolicy::isWordChar);
    }

    private static boolean isWordChar(int cp) {
        if (Character.isLetterOrDigit(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
                || type == Character.ENCLOSING_MARK;
    }

    /** Counts only, never the words: they are what a host wants kept out of logs. */
    @Override
    public String toString() {
        return "LegacyDenyListPolicy{id=" + id + ", words=" + wordCount + ", patterns=" + patternCount + "}";
    }

    /** Builds a {@link LegacyDenyListPolicy}; each option is checked when set and may be set once. Not thread safe. */
    public static final class Builder {
        private static final List<String> EMPTY_PROBES = List.of("", " ", "a", "ab c", "0", "-", "a-b", "é");

        private String id = DEFAULT_ID;
        private List<String> words = List.of();
        private List<Pattern> patterns = List.of();
        private boolean idSet;
        private boolean wordsSet;
        private boolean patternsSet;

        private Builder() {
        }

        /** The policy's id: {@value #DEFAULT_ID} unless set. */
        public Builder id(String value) {
            if (idSet) {
                throw new InvalidRequestException("id", "was already set");
            }
            this.id = Ids.check(value);
            idSet = true;
            return this;
        }

        /**
         * The words and phrases to find.
         *
         * @throws InvalidRequestException naming {@code words} when the list is null or empty, or a word is null
         *         or blank (after folding); the message gives its index
         */
        public Builder words(List<String> list) {
            if (wordsSet) {
                throw new InvalidRequestException("words", "was already set");
            }
            if (list == null || list.isEmpty()) {
                throw new InvalidRequestException("words", "must hold at least one word");
            }
            List<String> folded = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                String w = list.get(i);
                String f = w == null ? "" : FoldedText.fold(w).strip();
                if (f.isEmpty()) {
                    throw new InvalidRequestException("words", "entry " + i + " is null or blank");
                }
                folded.add(f);
            }
            this.words = List.copyOf(folded);
            wordsSet = true;
            return this;
        }

        /**
         * The regular expressions to find.
         *
         * @throws InvalidRequestException naming {@code patterns} when the list is null or empty, or a pattern is
         *         null, malformed, or can match the empty string; the message gives its index and the syntax
         *         error, not the pattern
         */
        public Builder patterns(List<String> list) {
            if (patternsSet) {
                throw new InvalidRequestException("patterns", "was already set");
            }
            if (list == null || list.isEmpty()) {
                throw new InvalidRequestException("patterns", "must hold at least one pattern");
            }
            List<Pattern> compiled = new ArrayList<>(list.size());
            for (int i = 0; i < list.size(); i++) {
                String p = list.get(i);
                if (p == null || p.isBlank()) {
                    throw new InvalidRequestException("patterns", "entry " + i + " is null or blank");
                }
                Pattern pattern;
                try {
                    Pattern.compile(p); // alone first, so that an error's index is of the host's pattern
                    pattern = Pattern.compile("(?<!" + NOT_WORD + ")(?:" + p + ")(?!" + NOT_WORD + ")",
                            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
                } catch (PatternSyntaxException e) {
                    throw new InvalidRequestException("patterns", "entry " + i + " is not a valid regular "
                            + "expression: " + e.getDescription() + " near index " + e.getIndex());
                }
                Pattern bare = Pattern.compile(p, Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE);
                for (String probe : EMPTY_PROBES) {
                    Matcher m = bare.matcher(probe);
                    while (m.find()) {
                        if (m.end() == m.start()) {
                            throw new InvalidRequestException("patterns", "entry " + i
                                    + " can match the empty string");
                        }
                    }
                }
                compiled.add(pattern);
            }
            this.patterns = List.copyOf(compiled);
            patternsSet = true;
            return this;
        }

        /**
         * @throws InvalidRequestException naming {@code words} when neither words nor patterns were set
         */
        public LegacyDenyListPolicy build() {
            if (words.isEmpty() && patterns.isEmpty()) {
                throw new InvalidRequestException("words", "a deny list needs at least one word or pattern");
            }
            return new LegacyDenyListPolicy(id, words, patterns);
        }
    }
}
