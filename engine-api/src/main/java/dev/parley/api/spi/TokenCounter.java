package dev.parley.api.spi;

/** Counts the tokens of a text for one model. Must be thread safe. */
@FunctionalInterface
public interface TokenCounter {

    /** The number of tokens in {@code text}; 0 for the empty string. */
    int count(String text);
}
