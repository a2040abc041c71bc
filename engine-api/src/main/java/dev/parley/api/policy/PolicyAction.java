package dev.parley.api.policy;

/** What a finding of a configured policy leads to. */
public enum PolicyAction {
    /** The finding is recorded as a violation; the turn goes on. */
    LOG,
    /** Recorded, and handed once to the engine's {@link dev.parley.api.spi.AlertSink} after the turn is stored. */
    ALERT,
    /**
     * The turn stops: at PRE before any model call, at DURING or POST before the withheld text reaches the caller.
     * The caller gets a {@link dev.parley.api.PolicyBlockedException}; no text of the turn is stored, and its
     * message id is settled, so a replay gets the same refusal without a model call.
     */
    BLOCK,
    /**
     * Each finding's span is replaced by {@code [REDACTED:<category>]}: in the prompt before the model sees it, in
     * the reply before the caller does. The original text is stored nowhere. While a reply streams, a span longer
     * than the policy's {@link dev.parley.api.spi.Policy#maxSpan()} (a private key's body after its header) can be
     * redacted only from where the policy found it: text before that may have been delivered. Block such formats
     * rather than redact them.
     */
    REDACT
}
