package dev.parley.core.internal;

import dev.parley.api.spi.TokenCounter;

/**
 * A host's token counter with its answers checked, so that a faulty counter cannot corrupt a conversation's
 * totals or the context budget: a negative count fails the turn with an {@link IllegalStateException} naming the
 * counter. Thread safe when the counter is.
 */
final class CheckedTokenCounter implements TokenCounter {
    private final TokenCounter delegate;
    private final String name;

    CheckedTokenCounter(TokenCounter delegate, String name) {
        this.delegate = delegate;
        this.name = name;
    }

    @Override
    public int count(String text) {
        int tokens = delegate.count(text);
        if (tokens < 0) {
            throw new IllegalStateException(name + " (" + delegate.getClass().getName() + ") returned " + tokens
                    + " tokens for a text of " + text.length() + " chars; counts must not be negative");
        }
        return tokens;
    }

    @Override
    public String toString() {
        return name;
    }
}
