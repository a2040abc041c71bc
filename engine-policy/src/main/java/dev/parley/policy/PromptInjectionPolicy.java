package dev.parley.policy;

import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.FoldedText;
import dev.parley.policy.internal.Ids;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Heuristics for prompt injection and jailbreak attempts ({@link Finding#INJECTION}): phrases that attacks use,
 * matched on the NFKC-folded, lower-cased text and again with light leetspeak undone ("1gn0r3" is "ignore"),
 * tolerant of extra whitespace and punctuation between words ("I.g.n.o.r.e" is not caught,
 * "IGNORE   all -- previous instructions" and fullwidth letters are). Spans are of the original text.
 * Immutable and thread safe. One pass over the folded text finds the words a phrase can start with ("ignore",
 * "you", "reveal", ...); each heuristic's pattern is tried only there, and only when the text holds a word every
 * match of it holds.
 *
 * <p>Detects:
 * <ul>
 *   <li>instruction overrides: "ignore / disregard / forget / override (all) (of) (the / your / any) previous /
 *       prior / above / preceding / earlier instructions / rules / directions / prompts / guidelines", "ignore /
 *       disregard / override (all of) your / the (system) instructions / system prompt / guidelines / programming",
 *       "ignore / disregard / forget everything / all above";</li>
 *   <li>persona jailbreaks: "you are now DAN" (or jailbroken, unfiltered, unrestricted), "do anything now",
 *       "pretend / act as / roleplay ... without (any) restrictions / limits / filters / rules / guidelines /
 *       censorship" (within 60 characters of one sentence), "developer mode" after enable / activate / enter /
 *       with / in, or before enabled / on / activated;</li>
 *   <li>system-prompt extraction: "reveal / print / show / display / output / repeat / tell me / give me / what
 *       is (your / the) (full / original / hidden) system prompt / initial instructions / system message", and
 *       "repeat the text / words / everything above".</li>
 * </ul>
 *
 * <p>These are heuristics, not a classifier. Known false positives: texts about prompt injection (security
 * articles, this Javadoc, a user asking "what does 'ignore previous instructions' mean?"), quoted attacks, a
 * request to "forget the previous instructions" meant for a human assistant, software whose docs say "enable
 * developer mode" (Android, browsers). Known false negatives: paraphrases, other languages, attacks spelled
 * with separators inside words, base64 or other encodings, instructions split across messages. Use it to log or
 * alert, or pair it with {@link LlmJudgePolicy}, rather than to block on its own.
 */
public final class PromptInjectionPolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "prompt-injection";
    /** The longest span this policy needs whole: a persona phrase with its 60-character gap. */
    public static final int MAX_SPAN = 160;

    /** Whitespace and punctuation between words: up to six characters. */
    private static final String S = "[\\s\\p{P}\\p{S}]{1,6}+";
    private static final String B = "(?<![\\p{L}\\p{N}])";
    private static final String E = "(?![\\p{L}\\p{N}])";

    /**
     * A pattern and the words of which every match holds one: a text without any of them is not scanned, which
     * spares most prose a pass of the pattern.
     */
    private record Heuristic(String reason, List<String> anyOf, List<String> leading, Pattern pattern) {
        boolean mayMatch(String folded) {
            for (String word : anyOf) {
                if (folded.contains(word)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final List<Heuristic> HEURISTICS = List.of(
            h("instruction-override phrase",
                    List.of("ignore", "disregard", "forget", "override"),
                    List.of("ignore", "disregard", "forget", "override"),
                    "(?:ignore|disregard|forget|override)" + S + "(?:all" + S + ")?(?:of"
                    + S + ")?(?:the" + S + "|your" + S + "|any" + S + "|my" + S + ")?(?:previous|prior|above"
                    + "|preceding|earlier|former)" + S + "(?:instructions?|rules|directions|prompts?|guidelines"
                    + "|directives|commands)"),
            h("instruction-override phrase",
                    List.of("ignore", "disregard", "override"),
                    List.of("ignore", "disregard", "override"),
                    "(?:ignore|disregard|override)" + S + "(?:all" + S + "(?:of" + S
                    + ")?)?(?:your|the)" + S + "(?:system" + S + ")?(?:instructions|system" + S + "prompt"
                    + "|guidelines|programming)"),
            h("instruction-override phrase",
                    List.of("ignore", "disregard", "forget"),
                    List.of("ignore", "disregard", "forget"),
                    "(?:ignore|disregard|forget)" + S + "(?:everything|all|the text)" + S
                    + "(?:above|before this|said before)"),
            h("persona jailbreak phrase",
                    List.of("now"),
                    List.of("you"),
                    "you" + S + "are" + S + "now" + S + "(?:dan|jailbroken|unfiltered"
                    + "|unrestricted|free" + S + "of" + S + "(?:all" + S + ")?restrictions)"),
            h("persona jailbreak phrase",
                    List.of("anything"),
                    List.of("do"),
                    "do" + S + "anything" + S + "now"),
            h("persona jailbreak phrase",
                    List.of("restrictions", "limits", "limitations", "filters", "rules", "guidelines", "censorship"),
                    List.of("pretend", "act", "behave", "role"),
                    "(?:pretend|act|behave|roleplay|role" + S + "play)" + E
                    + "[^.!?\\n]{0,60}?" + B + "(?:without|with" + S + "no|free" + S + "of)" + S + "(?:any" + S
                    + ")?(?:restrictions|limits|limitations|filters|rules|guidelines|censorship)"),
            h("developer-mode jailbreak phrase",
                    List.of("developer"),
                    List.of("enable", "activate", "enter", "with", "in", "developer"),
                    "(?:(?:enable|activate|enter|with|in)" + S + "developer" + S
                    + "mode|developer" + S + "mode" + S + "(?:enabled|on|activated))"),
            h("system-prompt extraction phrase",
                    List.of("prompt", "instructions", "message"),
                    List.of("reveal", "print", "show", "display", "output", "repeat", "tell", "give", "what"),
                    "(?:reveal|print|show|display|output|repeat|tell" + S + "me|give"
                    + S + "me|what" + S + "(?:is|are|were))" + S + "(?:me" + S + ")?(?:your|the)" + S
                    + "(?:(?:full|entire|original|hidden|secret|exact)" + S + ")?(?:system" + S + "prompt|initial"
                    + S + "instructions|original" + S + "instructions|system" + S + "message|hidden" + S
                    + "instructions)"),
            h("system-prompt extraction phrase",
                    List.of("above"),
                    List.of("repeat"),
                    "repeat" + S + "(?:the" + S + ")?(?:text|words|everything"
                    + "|all)" + S + "above"));

    private final String id;

    private PromptInjectionPolicy(String id) {
        this.id = id;
    }

    /** Every heuristic above, with id {@value #DEFAULT_ID}. */
    public static PromptInjectionPolicy standard() {
        return new PromptInjectionPolicy(DEFAULT_ID);
    }

    /**
     * This policy with another id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9,
     *         '.', '_', '-'
     */
    public PromptInjectionPolicy withId(String newId) {
        return new PromptInjectionPolicy(Ids.check(newId));
    }

    private static Heuristic h(String reason, List<String> anyOf, List<String> leading, String regex) {
        return new Heuristic(reason, anyOf, leading, Pattern.compile(B + "(?:" + regex + ")" + E));
    }

    /**
     * A word the scan looks for, and its value: in {@link #LEADS} the index of the heuristic whose every match
     * starts with it, in {@link #NEEDED} a bit for each heuristic whose every match holds it (or another word).
     */
    private record Lead(int value, String word) {
    }

    /** The leading words by their first two letters (a to z each: 26 * first + second); null where none. */
    private static final Lead[][] LEADS = new Lead[26 * 26][];

    /** The words of which every match of a heuristic holds one, by their first two letters; null where none. */
    private static final Lead[][] NEEDED = new Lead[26 * 26][];

    static {
        java.util.Map<String, Integer> needed = new java.util.LinkedHashMap<>();
        for (int h = 0; h < HEURISTICS.size(); h++) {
            for (String word : HEURISTICS.get(h).anyOf()) {
                needed.merge(word, 1 << h, (a, b) -> a | b);
            }
        }
        needed.forEach((word, heuristics) -> put(NEEDED, word, heuristics));
        for (int h = 0; h < HEURISTICS.size(); h++) {
            for (String word : HEURISTICS.get(h).leading()) {
                put(LEADS, word, h);
            }
        }
    }

    private static void put(Lead[][] table, String word, int value) {
        int key = 26 * (word.charAt(0) - 'a') + (word.charAt(1) - 'a');
        Lead[] old = table[key] == null ? new Lead[0] : table[key];
        Lead[] grown = java.util.Arrays.copyOf(old, old.length + 1);
        grown[old.length] = new Lead(value, word);
        table[key] = grown;
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public int maxSpan() {
        return MAX_SPAN;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        if (input.text().isEmpty()) {
            return List.of();
        }
        FoldedText folded = FoldedText.of(input.text());
        FoldedText unleet = folded.unleet();
        List<Finding> found = new ArrayList<>();
        for (FoldedText t : unleet == folded ? List.of(folded) : List.of(folded, unleet)) {
            List<int[]>[] matches = scan(t.folded());
            for (int h = 0; h < matches.length; h++) {
                if (matches[h] == null) {
                    continue;
                }
                for (int[] m : matches[h]) {
                    int start = t.originalStart(m[0]);
                    int end = t.originalEnd(m[1]);
                    if (found.stream().noneMatch(x -> start < x.end() && x.start() < end)) {
                        found.add(new Finding(start, end, Finding.INJECTION, id, HEURISTICS.get(h).reason()));
                    }
                }
            }
        }
        found.sort(Comparator.comparingInt(Finding::start));
        return found;
    }

    /**
     * Each heuristic's matches in a folded text, in order: one pass over the words finds those that may start a
     * match (a heuristic's leading word, after no ASCII letter or digit; other characters before it are left to the
     * pattern's look-behind) and where the last word every match of a heuristic needs one of is; the heuristic's
     * pattern is then tried only at its leading words before that, from where its last match ended, as a search of
     * the whole text would.
     */
    @SuppressWarnings("unchecked")
    private static List<int[]>[] scan(String f) {
        int count = HEURISTICS.size();
        List<int[]>[] matches = new List[count];
        int[] from = new int[count];
        int[] tried = new int[count];
        Matcher[] matchers = new Matcher[count];
        java.util.Arrays.fill(tried, -1);
        char[] cs = f.toCharArray();
        int n = cs.length;
        // one pass over the words (runs of ASCII letters and digits; a word starts after any other character):
        // where each heuristic's last needed word starts (a match starting after it cannot hold one), and the words
        // that may start a match
        int[] lastNeeded = new int[count];
        java.util.Arrays.fill(lastNeeded, -1);
        int[] anchors = new int[16];
        int anchorCount = 0;
        int p = 0;
        while (p < n) {
            char c = cs[p];
            if (!isAsciiLetterOrDigit(c)) {
                p++;
                continue;
            }
            if (c >= 'a' && c <= 'z' && p + 1 < n && cs[p + 1] >= 'a' && cs[p + 1] <= 'z') {
                int key = 26 * (c - 'a') + (cs[p + 1] - 'a');
                Lead[] needed = NEEDED[key];
                if (needed != null) {
                    for (Lead w : needed) {
                        if (has(cs, p, w.word())) {
                            for (int h = 0; h < count; h++) {
                                if ((w.value() & (1 << h)) != 0) {
                                    lastNeeded[h] = p;
                                }
                            }
                        }
                    }
                }
                if (LEADS[key] != null) {
                    if (anchorCount == anchors.length) {
                        anchors = java.util.Arrays.copyOf(anchors, anchorCount * 2);
                    }
                    anchors[anchorCount++] = p;
                }
            }
            p++;
            while (p < n && isAsciiLetterOrDigit(cs[p])) {
                p++;
            }
        }
        for (int a = 0; a < anchorCount; a++) {
            int at = anchors[a];
            for (Lead lead : LEADS[26 * (cs[at] - 'a') + (cs[at + 1] - 'a')]) {
                int h = lead.value();
                if (at > lastNeeded[h] || at < from[h] || tried[h] == at || !has(cs, at, lead.word())) {
                    continue;
                }
                tried[h] = at;
                if (matchers[h] == null) {
                    matchers[h] = HEURISTICS.get(h).pattern().matcher(f).useTransparentBounds(true);
                }
                Matcher m = matchers[h];
                m.region(at, n);
                if (m.lookingAt()) {
                    if (matches[h] == null) {
                        matches[h] = new ArrayList<>(2);
                    }
                    matches[h].add(new int[] {m.start(), m.end()});
                    from[h] = m.end();
                }
            }
        }
        return matches;
    }

    private static boolean isAsciiLetterOrDigit(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
    }

    private static boolean has(char[] cs, int at, String word) {
        if (at + word.length() > cs.length) {
            return false;
        }
        for (int k = 0; k < word.length(); k++) {
            if (cs[at + k] != word.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "PromptInjectionPolicy{id=" + id + "}";
    }
}
