package dev.parley.api.policy;

/** When a policy checks a turn's text. */
public enum PolicyPhase {
    /** Before the model call: the prompt and each of the turn's additional-context snippets. */
    PRE,
    /**
     * While the reply streams: the text before the caller's listener receives it. On {@code send}, which delivers
     * the reply whole, a DURING policy checks the whole reply, as a POST policy does.
     */
    DURING,
    /** After the model call: the whole reply, before it is returned and stored. */
    POST
}
