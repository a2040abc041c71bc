package dev.parley.api.policy;

import dev.parley.api.ConversationInfo;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.EngineServices;
import dev.parley.api.values.Turn;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import org.jspecify.annotations.Nullable;

/**
 * What a policy checks: one text of a turn in one phase, with what a check may need beside it (the turn, the
 * engine's services for a policy that asks a model, a token counter, the time left). Immutable and thread safe.
 *
 * <p>A policy's findings are spans of {@link #text()}. At PRE the text is the prompt, or one additional-context
 * snippet (each is checked on its own); at DURING it is a window of the streamed reply: the end of the text
 * already released, followed by the text not yet released; at POST it is the whole reply.
 */
public final class PolicyInput {
    /** Counts one token per four characters, rounded up: what a policy checked on its own (in a test) counts by. */
    private static final TokenCounter ROUGH = text -> (text.length() + 3) / 4;

    /** What {@link #remaining()} says when there is no deadline: about 292 years, and still {@code toNanos()}-safe. */
    private static final Duration FOREVER = Duration.ofNanos(Long.MAX_VALUE);

    private final PolicyPhase phase;
    private final String text;
    private final TokenCounter tokenCounter;
    private final @Nullable Turn turn;
    private final @Nullable EngineServices services;
    private final long deadlineNanos;
    private final int offset;

    private PolicyInput(PolicyPhase phase, String text, TokenCounter tokenCounter, @Nullable Turn turn,
                        @Nullable EngineServices services, long deadlineNanos, int offset) {
        this.phase = Objects.requireNonNull(phase, "phase");
        this.text = Objects.requireNonNull(text, "text");
        this.tokenCounter = Objects.requireNonNull(tokenCounter, "tokenCounter");
        this.turn = turn;
        this.services = services;
        this.deadlineNanos = deadlineNanos;
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
        this.offset = offset;
    }

    /**
     * A text to check on its own, outside a turn (a policy's own test): tokens counted one per four characters,
     * no turn, no services, and no deadline.
     */
    public static PolicyInput of(PolicyPhase phase, String text) {
        return new PolicyInput(phase, text, ROUGH, null, null, Long.MAX_VALUE, 0);
    }

    /** The same input counted by {@code counter}. */
    public PolicyInput withTokenCounter(TokenCounter counter) {
        return new PolicyInput(phase, text, counter, turn, services, deadlineNanos, offset);
    }

    /** The same input as a text of {@code turn}, checked with the engine's {@code engineServices}. */
    public PolicyInput forTurn(Turn forTurn, EngineServices engineServices) {
        return new PolicyInput(phase, text, tokenCounter, Objects.requireNonNull(forTurn, "turn"),
                Objects.requireNonNull(engineServices, "services"), deadlineNanos, offset);
    }

    /** The same input with a deadline {@code budget} from now. */
    public PolicyInput withBudget(Duration budget) {
        long now = System.nanoTime();
        long nanos = budget.toNanos();
        return new PolicyInput(phase, text, tokenCounter, turn, services,
                Long.MAX_VALUE - now < nanos ? Long.MAX_VALUE : now + nanos, offset);
    }

    /** The same input with another text to check. */
    public PolicyInput withText(String other) {
        return new PolicyInput(phase, other, tokenCounter, turn, services, deadlineNanos, offset);
    }

    /** The same input for a text that starts {@code charsBefore} characters into the whole text (a streamed reply's window). */
    public PolicyInput withOffset(int charsBefore) {
        return new PolicyInput(phase, text, tokenCounter, turn, services, deadlineNanos, charsBefore);
    }

    /**
     * How many characters of the whole text come before {@link #text()}: at DURING, the reply streamed before the
     * window (a size limit counts them); 0 in every other phase.
     */
    public int offset() {
        return offset;
    }

    /** The phase of the check. */
    public PolicyPhase phase() {
        return phase;
    }

    /** The text to check; the findings' spans are in it. */
    public String text() {
        return text;
    }

    /** Counts tokens as the turn's model does. */
    public TokenCounter tokenCounter() {
        return tokenCounter;
    }

    /** The turn the text is of; empty for a text checked on its own. */
    public Optional<Turn> turn() {
        return Optional.ofNullable(turn);
    }

    /** The conversation the text is of; empty for a text checked on its own. */
    public Optional<ConversationInfo> conversation() {
        return turn == null ? Optional.empty() : Optional.of(turn.conversation());
    }

    /** The engine's services (registered models, for a policy that asks one); empty outside a turn. */
    public Optional<EngineServices> services() {
        return Optional.ofNullable(services);
    }

    /**
     * The time left of the check's budget ({@link PolicyRule#timeBudget()}), never negative: a policy that waits
     * (on a judge model) waits at most this long. A check that returns after its budget ran out is discarded
     * and recorded as {@link PolicyOutcome.Status#NOT_EVALUATED}. Without a deadline (a text checked on its own) it
     * is {@code Duration.ofNanos(Long.MAX_VALUE)}, so {@code toNanos()} and {@code toMillis()} never overflow.
     */
    public Duration remaining() {
        if (deadlineNanos == Long.MAX_VALUE) {
            return FOREVER;
        }
        return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
    }

    /** Lengths and phase only, never the text. */
    @Override
    public String toString() {
        return "PolicyInput{phase=" + phase + ", chars=" + text.length() + "}";
    }
}
