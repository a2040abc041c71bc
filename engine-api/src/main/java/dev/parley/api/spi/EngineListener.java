package dev.parley.api.spi;

import dev.parley.api.Credits;
import dev.parley.api.Usage;
import dev.parley.api.policy.PolicyOutcome;

import java.util.List;

/**
 * Watches the engine's work on each turn without wrapping anything, in the manner of OkHttp's
 * {@code EventListener}: metrics, traces and logs are built on it. Every method does nothing by default, so a
 * listener overrides only what it needs and later versions can add events without breaking it.
 *
 * <p><b>Pairs.</b> Every {@code ...Start} is followed by exactly one matching {@code ...End} or
 * {@code ...Failed} for the same turn; {@link #firstDelta} and the stream lock events come in between.
 *
 * <p><b>Order of one turn.</b> {@link #turnStart}; for a stream {@link #streamLockAcquired}; then for each stage
 * the turn reaches, in pipeline order, {@link #stageStart}, and inside the provider call stage
 * {@link #modelCallStart}, {@link #firstDelta} (streams that deliver any text), {@link #modelCallEnd}; inside the
 * policy stage, as it answers, {@link #policyChecked}; inside the persist stage {@link #commitStart},
 * {@link #commitEnd} and {@link #turnCharged}; each stage's {@link #stageEnd} as it returns, inner stages first; for
 * a stream {@link #streamLockReleased}; last {@link #turnEnd} or {@link #turnFailed}. A replayed turn ends at the
 * idempotency stage: the stages after it, the model call and the commit have no events. A stream that waits for its
 * message id held elsewhere gives its lock up meanwhile: {@link #streamLockReleased} and {@link #streamLockAcquired}
 * again around the wait. A turn the engine's rate limits refuse is {@link #turnStart} then {@link #turnFailed} with
 * a {@link dev.parley.api.RateLimitedException}, nothing between, for a send and a stream alike. A request refused
 * before its turn begins (an unknown conversation, no access, a bad field, a send while a stream holds the
 * conversation) has no events.
 *
 * <p><b>Threads.</b> A send's events arrive on the caller's thread. A stream's {@link #turnStart} and first
 * {@link #streamLockAcquired} (or its {@link #turnFailed} when it is refused at once) arrive on the caller's thread,
 * so that a listener can take the caller's context there; the rest on its stream thread, except {@link #firstDelta},
 * which arrives on the thread that delivered the delta (often the provider's). Events of one turn never overlap.
 * A listener shared by turns must be thread safe; {@link Factory} gives each turn its own.
 *
 * <p><b>Failures.</b> A listener that throws is logged and ignored: it can neither fail nor change the turn.
 * Events carry no user text: {@link TurnContext} holds ids, the model name and whether the turn streams.
 *
 * <p>Several listeners: {@link #factories(Factory...)} gives each turn one listener per factory.
 */
public interface EngineListener {
    /** The listener that ignores every event. */
    EngineListener NONE = new EngineListener() {
    };

    /** Creates the listener of each turn, as it begins (for example one that holds the turn's trace span). */
    @FunctionalInterface
    interface Factory {
        /** The listener of this turn; called once per turn, on the thread that begins it. */
        EngineListener create(TurnContext turn);
    }

    /** A factory giving every turn the same listener, which must then be thread safe. */
    static Factory factory(EngineListener listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        return turn -> listener;
    }

    /**
     * A factory whose turn listener tells every event to a listener from each of {@code factories}, in the order
     * given. A listener that throws does not keep the event from the ones after it: the first exception is thrown
     * on once all were told (and then logged and ignored by the engine, as any listener's), later ones added to it
     * as suppressed. A factory that throws or answers null or {@link #NONE} gives that turn no listener of its own.
     * The factory is thread safe when {@code factories} are.
     *
     * @throws IllegalArgumentException when no factory is given
     */
    static Factory factories(Factory... factories) {
        java.util.Objects.requireNonNull(factories, "factories");
        if (factories.length == 0) {
            throw new IllegalArgumentException("at least one factory must be given");
        }
        List<Factory> all = List.of(factories);
        return all.size() == 1 ? all.get(0) : new dev.parley.api.internal.CompositeListener.OfFactories(all);
    }

    /**
     * What every event says of its turn. Holds no user text.
     *
     * @param conversationId the conversation
     * @param workspaceId the conversation's workspace (a host decides whether it is worth a metric tag)
     * @param messageId the turn's message id (the client's, or one the engine generated)
     * @param model the model name chosen for the turn
     * @param streaming whether the turn streams
     */
    record TurnContext(String conversationId, String workspaceId, String messageId, String model,
                       boolean streaming) {
        public TurnContext {
            java.util.Objects.requireNonNull(conversationId, "conversationId");
            java.util.Objects.requireNonNull(workspaceId, "workspaceId");
            java.util.Objects.requireNonNull(messageId, "messageId");
            java.util.Objects.requireNonNull(model, "model");
        }
    }

    /** The turn begins, its request checked. */
    default void turnStart(TurnContext turn) {
    }

    /**
     * The turn ended with a reply: stored (complete or cancelled), or replayed from the store.
     *
     * @param status the reply's status
     * @param replayed whether the reply was a stored one, returned without a model call
     */
    default void turnEnd(TurnContext turn, dev.parley.api.MessageStatus status, boolean replayed) {
    }

    /** The turn failed; nothing of it was stored. {@code error} is what the caller gets. */
    default void turnFailed(TurnContext turn, RuntimeException error) {
    }

    /** A stage's {@code intercept} begins. */
    default void stageStart(TurnContext turn, String stage) {
    }

    /** A stage's {@code intercept} returned. */
    default void stageEnd(TurnContext turn, String stage) {
    }

    /** A stage's {@code intercept} threw (itself, or passing on a failure of a later stage). */
    default void stageFailed(TurnContext turn, String stage, RuntimeException error) {
    }

    /** The provider is called. */
    default void modelCallStart(TurnContext turn, String model) {
    }

    /** The first delta of a streamed reply reached the turn's stream. */
    default void firstDelta(TurnContext turn) {
    }

    /**
     * The provider answered (or, for a cancelled stream, stopped).
     *
     * @param usage the usage the provider reported, or {@link Usage#ZERO} when it reported none
     */
    default void modelCallEnd(TurnContext turn, Usage usage) {
    }

    /** The provider failed, timed out or its stream went idle. */
    default void modelCallFailed(TurnContext turn, RuntimeException error) {
    }

    /**
     * The policy stage checked the turn with the policies in the conversation's scope: one outcome per rule and
     * phase, in phase order, as {@link dev.parley.api.Reply#policyOutcomes()} reports them (rule ids, actions,
     * statuses and finding counts, never the text found). Arrives inside the policy stage as it answers, once per
     * turn it answers, a blocked turn included; not at all when no policy applies, or when a later stage or the
     * model failed the turn.
     */
    default void policyChecked(TurnContext turn, List<PolicyOutcome> outcomes) {
    }

    /** The turn's commit to the store begins. */
    default void commitStart(TurnContext turn) {
    }

    /** The turn is committed. */
    default void commitEnd(TurnContext turn) {
    }

    /** The commit failed or was refused; nothing of the turn was stored. */
    default void commitFailed(TurnContext turn, RuntimeException error) {
    }

    /**
     * What the committed turn counted, right after {@link #commitEnd}: once per committed turn, a policy-blocked
     * one included (its tokens count though none of its text is kept). Replays have none: they are never counted
     * or charged again.
     *
     * @param usage the settled usage the commit added to the conversation's totals
     * @param credits what the commit charged, {@link Credits#unmetered()} when no account applied
     */
    default void turnCharged(TurnContext turn, Usage usage, Credits credits) {
    }

    /**
     * The turn's reservation reached the {@linkplain dev.parley.api.credits.SpendLimit.Kind#SOFT soft limit} of a
     * credit account: what its period spent and reserved, with this turn, is at least the limit. The turn goes on.
     * Arrives inside the budget stage, before the model call, once per account and turn.
     */
    default void softLimitReached(TurnContext turn, String accountId) {
    }

    /** The stream holds its conversation's lock. */
    default void streamLockAcquired(TurnContext turn) {
    }

    /** The stream gave its conversation's lock up. */
    default void streamLockReleased(TurnContext turn) {
    }
}
