package dev.parley.core.internal;

/**
 * Turns the markdown deltas of a plaintext stream into plain-text deltas, so that what a caller of
 * {@code Prompt.plaintext(true)} sees arrive is what its reply's text says. Each piece is added to the markdown
 * received so far; the part that markup cannot change any more is rendered with {@link Plaintext} and what that
 * rendering adds to the text already handed on is the next delta. That part is every paragraph a blank line ended,
 * plus the paragraph in progress up to its first character that can open markup or line that does not begin with a
 * letter (so that {@code **bo} is held until the paragraph ends, and {@code # T} too). When a rendering does
 * not extend what was handed on (markup that reinterprets an earlier line), nothing is handed on until one does; at
 * the end {@link #rest} gives what the whole reply's plain text adds. A reply's text is authoritative: it equals the
 * concatenated deltas whenever every rendering extended the last, which holds for the markdown models write.
 * Renders the text received so far on each piece that extends the stable part, so a reply costs time quadratic in
 * its length: milliseconds for replies of thousands of words. Not thread safe: the stream's output lock guards it.
 */
final class PlaintextDeltas {
    /** Characters that open or close inline markup (emphasis, code, a link) or an escape, wherever they stand. */
    private static final String MARKUP = "*_`[\\";

    private final StringBuilder markdown = new StringBuilder();
    private String handedOn = "";
    /** How much of {@link #markdown} the last rendering covered. */
    private int rendered;

    /** The plain text that {@code piece} of markdown lets through; empty while it can still change. */
    String next(String piece) {
        markdown.append(piece);
        int stable = stableLength();
        if (stable <= rendered) {
            return "";
        }
        rendered = stable;
        return extend(Plaintext.of(markdown.substring(0, stable)));
    }

    /** What the reply's whole plain text {@code replyText} adds to the text handed on; empty when it adds nothing. */
    String rest(String replyText) {
        return extend(replyText);
    }

    private String extend(String plain) {
        if (plain.length() <= handedOn.length() || !plain.startsWith(handedOn)) {
            return "";
        }
        String delta = plain.substring(handedOn.length());
        handedOn = plain;
        return delta;
    }

    /**
     * The length of the markdown prefix that more text cannot render differently: every paragraph ended by a blank
     * line (inline markup does not cross one), then the paragraph in progress up to its first character that can
     * open markup or the first of its lines that does not begin with a letter (a list item, a heading, a fence).
     */
    private int stableLength() {
        int paragraph = markdown.lastIndexOf("\n\n");
        int end = paragraph < 0 ? 0 : paragraph + 2;
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
