package dev.parley.core.internal;

/**
 * Turns the markdown deltas of a plaintext stream into plain-text deltas, so that what a caller of
 * {@code Prompt.plaintext(true)} sees arrive is what its reply's text says, and never a word less.
 *
 * <p>Each piece is added to the markdown received so far. The part that more text is not expected to render
 * differently (the paragraphs a blank line ended, and the paragraph in progress up to its first character that can
 * open markup or its first line that does not begin with a letter, so that {@code **bo} is held until the paragraph
 * ends, and {@code # T} too) is rendered with {@link Plaintext}, and what that rendering adds to the text already
 * handed on is the next delta. The markdown is rendered in segments: a new one begins at a paragraph break once the
 * current one has passed {@link #SEGMENT_CHARS} characters, so that a piece costs a rendering of at most a segment
 * and a long reply of paragraphs costs time linear in its length (one paragraph of many thousand characters still
 * costs a rendering of itself per piece); and a new one begins where the last rendering ended when a
 * rendering no longer extends what was handed on (markup that reinterprets earlier text, as a link's reference
 * definition written after the link does), so that the rest still arrives. At the end {@link #rest} hands on what
 * remains. The concatenated deltas equal the reply's text whenever no rendering diverged and the reply fits one
 * segment, which holds for the markdown models write; otherwise they differ only in how the reinterpreted markup or
 * a segment's first block reads, and the reply's text is authoritative. Not thread safe: the stream's output lock
 * guards it.
 */
final class PlaintextDeltas {
    /** After how many characters of markdown a segment ends at the next paragraph break. */
    static final int SEGMENT_CHARS = 2_000;

    /** Characters that open or close inline markup (emphasis, code, a link) or an escape, wherever they stand. */
    private static final String MARKUP = "*_`[\\";

    private final StringBuilder markdown = new StringBuilder();
    /** Where the current segment begins in {@link #markdown}. */
    private int segmentStart;
    /** The plain text handed on of the current segment. */
    private String segmentHandedOn = "";
    /** What goes between the text handed on and the current segment's first text. */
    private String joint = "";
    /** Whether any text was handed on. */
    private boolean handedOnAny;
    /** How much of {@link #markdown} the last rendering covered. */
    private int rendered;
    /** How much of {@link #markdown} the last rendering that was handed on covered. */
    private int lastGood;

    /** The plain text that {@code piece} of markdown lets through; empty while it can still change. */
    String next(String piece) {
        markdown.append(piece);
        int stable = stableLength();
        if (stable <= rendered) {
            return "";
        }
        rendered = stable;
        String delta = handOn(stable);
        if (stable - segmentStart > SEGMENT_CHARS && stable >= 2 && markdown.charAt(stable - 1) == '\n'
                && markdown.charAt(stable - 2) == '\n' && lastGood == stable) {
            newSegment(stable);
        }
        return delta;
    }

    /**
     * What remains to hand on once the reply is complete: what {@code replyText}, the reply's whole plain text, adds
     * to the text handed on while every rendering extended the last; else the rendering of the rest of the markdown.
     */
    String rest(String replyText) {
        if (segmentStart == 0 && replyText.startsWith(segmentHandedOn)) {
            String delta = replyText.substring(segmentHandedOn.length());
            segmentHandedOn = replyText;
            handedOnAny |= !delta.isEmpty();
            return delta;
        }
        rendered = markdown.length();
        return handOn(markdown.length());
    }

    /** The delta that the rendering of the current segment up to {@code end} gives. */
    private String handOn(int end) {
        String plain = Plaintext.of(markdown.substring(segmentStart, end));
        if (!plain.startsWith(segmentHandedOn)) {
            // Earlier text renders differently now: keep what was handed on, go on from where it ended.
            newSegment(lastGood);
            plain = Plaintext.of(markdown.substring(segmentStart, end));
        }
        if (plain.length() <= segmentHandedOn.length()) {
            return "";
        }
        String delta = plain.substring(segmentHandedOn.length());
        if (segmentHandedOn.isEmpty() && handedOnAny) {
            delta = joint + delta;
        }
        segmentHandedOn = plain;
        handedOnAny = true;
        lastGood = end;
        return delta;
    }

    /** Begins a segment at {@code start}, joined to the text before it as the markdown there says. */
    private void newSegment(int start) {
        segmentStart = start;
        segmentHandedOn = "";
        if (start == 0) {
            joint = "";
        } else if (markdown.charAt(start - 1) == '\n') {
            joint = "\n";
        } else {
            joint = Character.isWhitespace(markdown.charAt(start - 1)) ? " " : "";
        }
    }

    /**
     * The length of the markdown prefix that more text is not expected to render differently: every paragraph ended
     * by a blank line (inline markup does not cross one), then the paragraph in progress up to its first character
     * that can open markup or the first of its lines that does not begin with a letter (a list item, a heading, a
     * fence).
     */
    private int stableLength() {
        int paragraph = markdown.lastIndexOf("\n\n");
        int end = Math.max(paragraph < 0 ? 0 : paragraph + 2, segmentStart);
        while (end < markdown.length()) {
            char c = markdown.charAt(end);
            boolean lineStart = end == 0 || markdown.charAt(end - 1) == '\n';
            if (MARKUP.indexOf(c) >= 0 || (lineStart && !Character.isLetter(c)) || opensMarkup(c, end)) {
                break;
            }
            end++;
        }
        return end;
    }

    /**
     * Whether {@code c} at {@code at} can begin an image ({@code ![}), an entity ({@code &amp;}) or an HTML tag or
     * autolink ({@code <b>}, {@code <https:}); each is plain text when the next character says otherwise, and may be
     * markup while that character has not arrived.
     */
    private boolean opensMarkup(char c, int at) {
        if (c != '!' && c != '&' && c != '<') {
            return false;
        }
        if (at + 1 == markdown.length()) {
            return true;
        }
        char next = markdown.charAt(at + 1);
        return switch (c) {
            case '!' -> next == '[';
            case '&' -> Character.isLetter(next) || next == '#';
            default -> Character.isLetter(next) || next == '/' || next == '!' || next == '?';
        };
    }
}
