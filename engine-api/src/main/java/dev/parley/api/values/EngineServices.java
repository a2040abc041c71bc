package dev.parley.api.values;

import dev.parley.api.ConversationInfo;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.spi.TokenCounter;

import java.time.Clock;

/** What an engine offers the stages of its pipeline. Thread safe. */
public interface EngineServices {

    ConversationStore store();

    Clock clock();

    /** A new unique id from the engine's id source. */
    String newId();

    /**
     * The model registered under {@code name} for the conversation's scope (narrowest scope wins).
     *
     * @throws InvalidRequestException naming {@code field} when no such model is registered for the scope
     */
    ModelProvider model(String name, ConversationInfo conversation, String field);

    /**
     * The token counter for a registered model name: the model's own, else the engine's, else LangChain4j's
     * estimator for the provider's own model name. Its counts are checked: a counter that returns a negative
     * count fails with an {@link IllegalStateException} naming it.
     */
    TokenCounter tokenCounter(String modelName);

    /**
     * The context window of the model registered under {@code name} for the conversation's scope: the model's
     * declared window, else the engine's default window.
     */
    int contextWindow(String name, ConversationInfo conversation);

    /** Resolves brand voice and target audience ids to text. */
    SteeringResolver steeringResolver();

    /**
     * Stores the event now, in a transaction of its own, and hands it to the host's sink; a failing sink is
     * logged, never thrown. For an event that must exist only if the turn is stored, use {@link #recordWithTurn}.
     */
    void publish(AuditEvent event);

    /**
     * Keeps the event for the turn's commit: it is stored in the turn's own transaction and handed to the host's
     * sink after the commit, or dropped when the turn is not stored (it failed, was refused, or is a replay).
     *
     * @throws IllegalStateException outside a turn (the engine's own services), where there is no commit to join
     */
    default void recordWithTurn(AuditEvent event) {
        throw new IllegalStateException("there is no turn to record the event with: use publish");
    }

    /**
     * The listener of the turn these services serve ({@link EngineListener#NONE} outside a turn); a stage may
     * tell it of work it does. A listener's failure never reaches the stage.
     */
    default EngineListener listener() {
        return EngineListener.NONE;
    }

    /**
     * The policy rules that apply to a conversation, in order: the engine's
     * {@linkplain dev.parley.api.ConversationEngine.Builder#policies configured} rules whose scope contains it.
     * None by default.
     */
    default java.util.List<dev.parley.api.policy.PolicyRule> policies(dev.parley.api.ConversationInfo conversation) {
        return java.util.List.of();
    }

    /** The summaries of the engine's store, when it keeps them ({@link dev.parley.api.spi.SummaryLog}). */
    default java.util.Optional<dev.parley.api.spi.SummaryLog> summaries() {
        return store() instanceof dev.parley.api.spi.SummaryLog log ? java.util.Optional.of(log)
                : java.util.Optional.empty();
    }

    /**
     * The conversation's latest summary, when the store keeps summaries: what the context stage sends. The engine
     * may answer from what it read before, when the turn's first read of the conversation found its summaries
     * unchanged since. The default reads the store.
     */
    default java.util.Optional<dev.parley.api.compaction.Summary> latestSummary(String conversationId) {
        return summaries().flatMap(log -> log.latestSummary(conversationId));
    }

    /** How the engine compacts conversations; {@link dev.parley.api.compaction.Compaction#OFF} unless configured. */
    default dev.parley.api.compaction.Compaction compaction() {
        return dev.parley.api.compaction.Compaction.OFF;
    }

    /** The credits of the engine's store, when it keeps them ({@link dev.parley.api.spi.CreditLedger}). */
    default java.util.Optional<dev.parley.api.spi.CreditLedger> credits() {
        return store() instanceof dev.parley.api.spi.CreditLedger ledger ? java.util.Optional.of(ledger)
                : java.util.Optional.empty();
    }

    /**
     * Whether credit accounts may apply to this turn: false only when the turn's first read found that its
     * organization has none, so that a budget stage can pass the turn through unmetered without asking the store.
     */
    default boolean creditAccountsMayApply() {
        return true;
    }

    /**
     * Keeps a hold for the turn: the engine renews it while the turn runs and releases it when the turn ends
     * without a commit that charged it (the turn failed, was refused, or a stage dropped the hold), so that every
     * terminal path of a turn settles or frees what it reserved.
     *
     * @throws IllegalStateException outside a turn (the engine's own services)
     */
    default void holdWithTurn(dev.parley.api.credits.CreditHold hold) {
        throw new IllegalStateException("there is no turn to keep the hold with");
    }

    /**
     * The newest hold kept with this turn ({@link #holdWithTurn}) that no commit charged and no stage released:
     * what a turn that ends without its hold on the result (a stream a DURING policy stopped) is charged against.
     */
    default java.util.Optional<dev.parley.api.credits.CreditHold> openHold() {
        return java.util.Optional.empty();
    }

    /** Frees a hold kept with this turn now, charging nothing: its model call failed. */
    default void releaseHold(dev.parley.api.credits.CreditHold hold) {
        credits().ifPresent(ledger -> ledger.releaseHold(hold.id()));
    }

    /** The engine's leases and waits ({@link dev.parley.api.ConversationEngine.Builder#timeouts}). */
    dev.parley.api.Timeouts timeouts();
}
