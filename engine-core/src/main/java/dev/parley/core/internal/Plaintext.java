package dev.parley.core.internal;

import org.commonmark.node.Code;
import org.commonmark.node.Node;
import org.commonmark.parser.Parser;
import org.commonmark.renderer.NodeRenderer;
import org.commonmark.renderer.text.TextContentRenderer;

import java.util.Set;

/**
 * Renders markdown as plain text with commonmark-java. Inline code is written as is (commonmark's text renderer
 * would wrap it in quotes the model never wrote). Thread safe: commonmark's parser and renderer are.
 */
final class Plaintext {
    private static final Parser PARSER = Parser.builder().build();
    private static final TextContentRenderer RENDERER = TextContentRenderer.builder()
            .nodeRendererFactory(context -> new NodeRenderer() {
                @Override
                public Set<Class<? extends Node>> getNodeTypes() {
                    return Set.of(Code.class);
                }

                @Override
                public void render(Node node) {
                    context.getWriter().write(((Code) node).getLiteral());
                }
            })
            .build();

    private Plaintext() {
    }

    static String of(String markdown) {
        return RENDERER.render(PARSER.parse(markdown)).strip();
    }
}
