package dev.parley.policy;

// PromptInjectionPolicy as it was before its single-pass scan, kept unchanged as the oracle of
// PromptInjectionEquivalenceTest: the new policy must find exactly what this finds.

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
 * Immutable and thread safe.
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
public final class LegacyPromptInjectionPolicy implements Policy {
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
    private record Heuristic(String reason, List<String> anyOf, Pattern pattern) {
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
                    "(?:ignore|disregard|forget|override)" + S + "(?:all" + S + ")?(?:of"
                    + S + ")?(?:the" + S + "|your" + S + "|any" + S + "|my" + S + ")?(?:previous|prior|above"
                    + "|preceding|earlier|former)" + S + "(?:instructions?|rules|directions|prompts?|guidelines"
                    + "|directives|commands)"),
            h("instruction-override phrase",
                    List.of("ignore", "disregard", "override"),
                    "(?:ignore|disregard|override)" + S + "(?:all" + S + "(?:of" + S
                    + ")?)?(?:your|the)" + S + "(?:system" + S + ")?(?:instructions|system" + S + "prompt"
                    + "|guidelines|programming)"),
            h("instruction-override phrase",
                    List.of("ignore", "disregard", "forget"),
                    "(?:ignore|disregard|forget)" + S + "(?:everything|all|the text)" + S
                    + "(?:above|before this|said before)"),
            h("persona jailbreak phrase",
                    List.of("now"),
                    "you" + S + "are" + S + "now" + S + "(?:dan|jailbroken|unfiltered"
                    + "|unrestricted|free" + S + "of" + S + "(?:all" + S + ")?restrictions)"),
            h("persona jailbreak phrase",
                    List.of("anything"),
                    "do" + S + "anything" + S + "now"),
            h("persona jailbreak phrase",
                    List.of("restrictions", "limits", "limitations", "filters", "rules", "guidelines", "censorship"),
                    "(?:pretend|act|behave|roleplay|role" + S + "play)" + E
                    + "[^.!?\\n]{0,60}?" + B + "(?:without|with" + S + "no|free" + S + "of)" + S + "(?:any" + S
                    + ")?(?:restrictions|limits|limitations|filters|rules|guidelines|censorship)"),
            h("developer-mode jailbreak phrase",
                    List.of("developer"),
                    "(?:(?:enable|activate|enter|with|in)" + S + "developer" + S
                    + "mode|developer" + S + "mode" + S + "(?:enabled|on|activated))"),
            h("system-prompt extraction phrase",
                    List.of("prompt", "instructions", "message"),
                    "(?:reveal|print|show|display|output|repeat|tell" + S + "me|give"
                    + S + "me|what" + S + "(?:is|are|were))" + S + "(?:me" + S + ")?(?:your|the)" + S
                    + "(?:(?:full|entire|original|hidden|secret|exact)" + S + ")?(?:system" + S + "prompt|initial"
                    + S + "instructions|original" + S + "instructions|system" + S + "message|hidden" + S
                    + "instructions)"),
            h("system-prompt extraction phrase",
                    List.of("above"),
                    "repeat" + S + "(?:the" + S + ")?(?:text|words|everything"
                    + "|all)" + S + "above"));

    private final String id;

    private LegacyPromptInjectionPolicy(String id) {
        this.id = id;
    }

    /** Every heuristic above, with id {@value #DEFAULT_ID}. */
    public static LegacyPromptInjectionPolicy standard() {
        return new LegacyPromptInjectionPolicy(DEFAULT_ID);
    }

    /**
     * This policy with another id.
     *
     * @throws dev.parley.api.InvalidRequestException naming {@code id} unless it is 1 to 64 characters of a-z, 0-9,
     *         '.', '_', '-'
     */
    public LegacyPromptInjectionPolicy withId(String newId) {
        return new LegacyPromptInjectionPolicy(Ids.check(newId));
    }

    private static Heuristic h(String reason, List<String> anyOf, String regex) {
        return new Heuristic(reason, anyOf, Pattern.compile(B + "(?:" + regex + ")" + E));
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
            for (Heuristic h : HEURISTICS) {
                if (!h.mayMatch(t.folded())) {
                    continue;
                }
                Matcher m = h.pattern().matcher(t.folded());
                while (m.find()) {
                    int start = t.originalStart(m.start());
                    int end = t.originalEnd(m.end());
                    if (found.stream().noneMatch(x -> start < x.end() && x.start() < end)) {
                        found.add(new Finding(start, end, Finding.INJECTION, id, h.reason()));
                    }
                }
            }
        }
        found.sort(Comparator.comparingInt(Finding::start));
        return found;
    }

    @Override
    public String toString() {
        return "LegacyPromptInjectionPolicy{id=" + id + "}";
    }
}
