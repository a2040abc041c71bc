package dev.parley.api;

/**
 * Tokens of one turn: what the model read and what it wrote. Immutable and thread safe.
 *
 * @param tokensIn input tokens (system message, history, additional context and prompt)
 * @param tokensOut output tokens (the reply)
 */
public record Usage(long tokensIn, long tokensOut) {
    public static final Usage ZERO = new Usage(0, 0);

    public Usage {
        if (tokensIn < 0 || tokensOut < 0) {
            throw new IllegalArgumentException("token counts must not be negative: " + tokensIn + ", " + tokensOut);
        }
    }

    public long total() {
        return tokensIn + tokensOut;
    }
}
