package dev.parley.samples.chat;

/**
 * Makes text safe to print on a terminal: what the chat prints that came from a model, the store or the user could
 * carry control sequences (a clipboard write, {@code ESC ] 52 ; c ; ... BEL}; a title change; a cursor move or a
 * screen clear, {@code ESC [ 2 J}) that the terminal would obey rather than show. Stateless and thread safe.
 */
final class TerminalText {
    private TerminalText() {
    }

    /**
     * {@code text} without its control characters other than line feed and tab: the C0 ones ({@code U+0000} to
     * {@code U+001F}, ESC, BEL and carriage return among them), DEL ({@code U+007F}) and the C1 ones
     * ({@code U+0080} to {@code U+009F}, CSI {@code U+009B} and OSC {@code U+009D} among them). The printable rest
     * of a sequence stays, shown as text. Returns {@code text} itself when it has none.
     */
    static String safe(String text) {
        int first = 0;
        while (first < text.length() && !isControl(text.charAt(first))) {
            first++;
        }
        if (first == text.length()) {
            return text;
        }
        StringBuilder s = new StringBuilder(text.length()).append(text, 0, first);
        for (int i = first + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!isControl(c)) {
                s.append(c);
            }
        }
        return s.toString();
    }

    private static boolean isControl(char c) {
        return (c < 0x20 && c != '\n' && c != '\t') || (c >= 0x7F && c <= 0x9F);
    }
}
