package dev.parley.core.internal;

import org.commonmark.parser.Parser;
import org.commonmark.renderer.text.TextContentRenderer;

/** Renders markdown as plain text with commonmark-java. Thread safe (commonmark's parser and renderer are). */
final class Plaintext {
    private static final Parser PARSER = Parser.builder().build();
    private static final TextContentRenderer RENDERER = TextContentRenderer.builder().build();

    private Plaintext() {
    }

    static String of(String markdown) {
        return RENDERER.render(PARSER.parse(markdown)).strip();
    }
}
