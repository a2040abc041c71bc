package dev.parley.api;

/**
 * The size limits Parley enforces on request fields. A value over a limit is refused with an
 * {@link InvalidRequestException} naming the field, before anything is stored.
 */
public final class Limits {
    /** Longest id (conversation, message, workspace, repository, user), in UTF-16 chars. */
    public static final int MAX_ID_LENGTH = 128;
    /** Longest prompt text or additional-context snippet, in UTF-16 chars (1 Mi). */
    public static final int MAX_TEXT_LENGTH = 1 << 20;
    /** Longest steering text (personality), in UTF-16 chars. */
    public static final int MAX_STEERING_LENGTH = 16_384;
    /** Longest tag (user, source) or model name, in UTF-16 chars. */
    public static final int MAX_TAG_LENGTH = 256;
    /** Most additional-context snippets on one prompt. */
    public static final int MAX_CONTEXT_SNIPPETS = 64;
    /**
     * Most UTF-16 chars of one prompt's text and additional-context snippets together (2 Mi), checked before
     * any work is done for the turn. Each part also keeps its own limit, {@link #MAX_TEXT_LENGTH}.
     */
    public static final int MAX_PROMPT_TOTAL_LENGTH = 2 << 20;
    /**
     * Largest history token budget a prompt may ask for at all. A turn's budget is also capped by its model's
     * context window (see {@code ModelProvider.contextWindow()}), which is usually much smaller.
     */
    public static final int MAX_CONTEXT_SIZE = 10_000_000;
    /**
     * How far ahead of the engine's clock a client's {@code createdAt} may be: five minutes, for clock skew
     * between the client and the engine.
     */
    public static final java.time.Duration MAX_CLIENT_TIME_AHEAD = java.time.Duration.ofMinutes(5);
    /** Largest {@code maxOutputTokens} a turn may ask of a model. */
    public static final int MAX_OUTPUT_TOKENS = 1_000_000;
    /** Highest sampling temperature (the range providers accept is 0 to 2). */
    public static final double MAX_TEMPERATURE = 2.0;
    /** Most stop sequences on one turn (OpenAI's limit). */
    public static final int MAX_STOP_SEQUENCES = 4;
    /** Longest stop sequence, in UTF-16 chars. */
    public static final int MAX_STOP_SEQUENCE_LENGTH = 64;

    private Limits() {
    }
}
