package dev.parley.api;

import dev.parley.api.spi.PromptStage;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The ordered stages every turn runs through, for {@code send} and {@code stream} alike. Immutable and thread
 * safe: each edit returns a new pipeline.
 *
 * <p>Each stage receives the turn and the rest of the chain ({@link PromptStage#intercept}); it may rewrite
 * the turn, answer without calling the rest, or call {@code proceed} once and act on the result on its way
 * out. The default stages of engine-core, outermost first, are:
 *
 * <pre>
 * AccessStage        refuses callers that may not send in the conversation's workspace
 * IdempotencyStage   replays a stored reply for a known message id; one model call per id
 *   (budget)         the credits stage goes here
 * PersistStage       on the way out: stores prompt, reply and totals in one transaction
 * AccountingStage    on the way out: counts the reply's tokens, settles the turn's usage
 *   (policy)         policy stages go here: before the call on the prompt, after it on the reply
 * ContextStage       builds the model request: steering, history within the token budget, context, prompt
 * ProviderCallStage  calls the model; always last
 * </pre>
 *
 * so that in time a turn flows access, idempotency, budget, policy (pre), context, provider call,
 * policy (post), accounting, persist. Access comes before idempotency so that a caller who may no longer
 * send in a conversation cannot obtain a reply by replaying its message id.
 *
 * <pre>{@code
 * PromptPipeline p = PromptPipeline.defaults()
 *     .insertBefore(ContextStage.class, new MyRedactionStage())
 *     .replace(AccountingStage.class, new MyAccounting());
 * }</pre>
 */
public final class PromptPipeline {
    private final List<PromptStage> stages;

    private PromptPipeline(List<PromptStage> stages) {
        this.stages = List.copyOf(stages);
    }

    /** The default stages of the engine implementation on the class path. */
    public static PromptPipeline defaults() {
        return of(EngineProviders.find().defaultStages());
    }

    /** A pipeline of exactly these stages, in order. */
    public static PromptPipeline of(List<? extends PromptStage> stages) {
        Objects.requireNonNull(stages, "stages");
        for (int i = 0; i < stages.size(); i++) {
            Objects.requireNonNull(stages.get(i), "stage " + i);
        }
        return new PromptPipeline(new ArrayList<>(stages));
    }

    /** The stages, outermost first. */
    public List<PromptStage> stages() {
        return stages;
    }

    /** This pipeline with the first stage of {@code type} replaced by {@code replacement}. */
    public PromptPipeline replace(Class<? extends PromptStage> type, PromptStage replacement) {
        Objects.requireNonNull(replacement, "replacement");
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.set(indexOf(type), replacement);
        return new PromptPipeline(copy);
    }

    /** This pipeline with {@code stage} inserted just before the first stage of {@code type}. */
    public PromptPipeline insertBefore(Class<? extends PromptStage> type, PromptStage stage) {
        Objects.requireNonNull(stage, "stage");
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.add(indexOf(type), stage);
        return new PromptPipeline(copy);
    }

    /** This pipeline with {@code stage} inserted just after the first stage of {@code type}. */
    public PromptPipeline insertAfter(Class<? extends PromptStage> type, PromptStage stage) {
        Objects.requireNonNull(stage, "stage");
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.add(indexOf(type) + 1, stage);
        return new PromptPipeline(copy);
    }

    /** This pipeline without the first stage of {@code type}. */
    public PromptPipeline remove(Class<? extends PromptStage> type) {
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.remove(indexOf(type));
        return new PromptPipeline(copy);
    }

    private int indexOf(Class<? extends PromptStage> type) {
        Objects.requireNonNull(type, "type");
        for (int i = 0; i < stages.size(); i++) {
            if (type.isInstance(stages.get(i))) {
                return i;
            }
        }
        throw new IllegalArgumentException("no stage of type " + type.getName() + " in " + this);
    }

    @Override
    public String toString() {
        return stages.stream().map(PromptStage::name).collect(Collectors.joining(" -> ", "PromptPipeline[", "]"));
    }
}
