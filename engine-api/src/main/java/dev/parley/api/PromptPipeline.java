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
 *   [FIRST]              every turn, refused and replayed ones too
 * AccessStage            refuses callers that may not send in the conversation's workspace
 * IdempotencyStage       replays a stored reply for a known message id; one model call per id
 *   [ACCEPTED]           a new turn the caller may send; on the way out, its stored result
 * PersistStage           on the way out: stores prompt, reply and totals in one transaction
 *   [BEFORE_COMMIT]      on the way out, the settled result before it is stored (charges, audit)
 * AccountingStage        on the way out: counts the reply's tokens, settles the turn's usage
 *   [BEFORE_CONTEXT]     the prompt before history is read; on the way out, the reply after the policies
 * PolicyStage            the engine's policies: PRE on the prompt, DURING on the stream, POST on the reply
 * ContextStage           builds the model request: steering, history within the token budget, context, prompt
 *   [BEFORE_MODEL_CALL]  the request and its token estimate; retry and fallback
 * BudgetStage            reserves the turn's most cost on its credit accounts, or refuses it (BUDGET_EXCEEDED)
 * ProviderCallStage      calls the model; always last
 * </pre>
 *
 * Access comes before idempotency so that a caller who may no longer send in a conversation cannot obtain a
 * reply by replaying its message id.
 *
 * <p>A host's stage goes in at a named {@link Position} ({@link #insert}), so that it depends on what the turn
 * holds there rather than on the default stages' classes, and replacing or wrapping a default stage does not move
 * it. Stages inserted at one position run in the order they were inserted, the first outermost. Class-based edits
 * ({@link #insertBefore}, {@link #replace}, ...) remain for replacing the defaults themselves.
 *
 * <pre>{@code
 * PromptPipeline p = PromptPipeline.defaults()
 *     .insert(Position.BEFORE_CONTEXT, new MyRedactionStage())
 *     .insert(Position.BEFORE_MODEL_CALL, new MyFallback())
 *     .replace(AccountingStage.class, new MyAccounting());
 * }</pre>
 */
public final class PromptPipeline {
    /**
     * The named places of the default pipeline, outermost first. What a stage at each sees is stated per
     * constant; a pipeline made with {@link #of} has none of them.
     */
    public enum Position {
        /** Before every default stage: every turn, including those refused for access and those replayed. */
        FIRST,
        /**
         * After the access check and the replay of known message ids: a new turn the caller may send, seen once
         * per model answer; on the way out, the result after it was stored (its message id and time set).
         */
        ACCEPTED,
        /**
         * Inside the turn's commit: on the way out, the settled result (usage and reply tokens counted) before it
         * is stored. What a stage here records with the turn
         * ({@link dev.parley.api.values.EngineServices#recordWithTurn}) is stored in the turn's transaction.
         */
        BEFORE_COMMIT,
        /**
         * Before the engine's policies and the request is built: the prompt and additional context as sent, where
         * a host's own stage checks or rewrites them before the policies see them, history is read, or anything
         * reaches the model; on the way out, the reply after the POST policies, before its tokens are counted.
         */
        BEFORE_CONTEXT,
        /**
         * Just before the model call: the built request with its token estimate ({@code Turn.requestTokens()}) and
         * the model parameters (max output tokens), before the budget stage reserves on them. This is inside the
         * provider boundary:
         * a stage here may {@code proceed} more than once, for a retry or a fallback to another model, as long as
         * no streamed text has reached the caller.
         */
        BEFORE_MODEL_CALL
    }

    /** The stages, outermost first. */
    private final List<PromptStage> stages;
    /** For each position the pipeline has, the index in {@link #stages} of the first stage after its marker. */
    private final java.util.EnumMap<Position, Integer> markers;
    /** For each position, how many stages were inserted at it. */
    private final java.util.EnumMap<Position, Integer> inserted;

    private PromptPipeline(List<PromptStage> stages, java.util.EnumMap<Position, Integer> markers,
                           java.util.EnumMap<Position, Integer> inserted) {
        this.stages = List.copyOf(stages);
        this.markers = new java.util.EnumMap<>(markers);
        this.inserted = new java.util.EnumMap<>(inserted);
    }

    /** The default stages of the engine implementation on the class path, with its positions. */
    public static PromptPipeline defaults() {
        return EngineProviders.find().defaultPipeline();
    }

    /** A pipeline of exactly these stages, in order, with no named positions. */
    public static PromptPipeline of(List<? extends PromptStage> stages) {
        Objects.requireNonNull(stages, "stages");
        for (int i = 0; i < stages.size(); i++) {
            Objects.requireNonNull(stages.get(i), "stage " + i);
        }
        return new PromptPipeline(new ArrayList<>(stages), new java.util.EnumMap<>(Position.class),
                new java.util.EnumMap<>(Position.class));
    }

    /** A builder of a pipeline with named positions, for an engine implementation's defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The stages, outermost first. */
    public List<PromptStage> stages() {
        return stages;
    }

    /** The positions this pipeline has, outermost first. */
    public java.util.Set<Position> positions() {
        return java.util.Collections.unmodifiableSet(markers.keySet());
    }

    /**
     * Where a position is: the index in {@link #stages()} of the first stage inserted at it, or of the stage
     * after it when none was; empty when the pipeline lacks it. The stages from there up to the next default
     * stage are the ones at the position.
     */
    public java.util.OptionalInt indexOf(Position position) {
        Objects.requireNonNull(position, "position");
        Integer at = markers.get(position);
        return at == null ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(at);
    }

    /** The stages inserted at {@code position}, outermost first; empty when none were or it has no such position. */
    public List<PromptStage> stagesAt(Position position) {
        Integer at = markers.get(Objects.requireNonNull(position, "position"));
        return at == null ? List.of() : stages.subList(at, at + inserted.getOrDefault(position, 0));
    }

    /**
     * This pipeline with {@code stage} at {@code position}, after the stages inserted there before it.
     *
     * @throws IllegalArgumentException when the pipeline has no such position (it was made with {@link #of})
     */
    public PromptPipeline insert(Position position, PromptStage stage) {
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(stage, "stage");
        Integer at = markers.get(position);
        if (at == null) {
            throw new IllegalArgumentException("position: " + this + " has no position " + position);
        }
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.add(at + inserted.getOrDefault(position, 0), stage);
        java.util.EnumMap<Position, Integer> count = new java.util.EnumMap<>(inserted);
        count.merge(position, 1, Integer::sum);
        java.util.EnumMap<Position, Integer> moved = new java.util.EnumMap<>(Position.class);
        markers.forEach((p, other) -> moved.put(p,
                other > at || other.equals(at) && p.compareTo(position) > 0 ? other + 1 : other));
        return new PromptPipeline(copy, moved, count);
    }

    /** This pipeline with the first stage of {@code type} replaced by {@code replacement}; positions stay. */
    public PromptPipeline replace(Class<? extends PromptStage> type, PromptStage replacement) {
        Objects.requireNonNull(replacement, "replacement");
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.set(indexOf(type), replacement);
        return new PromptPipeline(copy, markers, inserted);
    }

    /**
     * This pipeline with {@code stage} inserted just before the first stage of {@code type}: after the stages at
     * the position in front of that stage, if any.
     */
    public PromptPipeline insertBefore(Class<? extends PromptStage> type, PromptStage stage) {
        Objects.requireNonNull(stage, "stage");
        return insertAt(indexOf(type), stage);
    }

    /** This pipeline with {@code stage} inserted just after the first stage of {@code type}. */
    public PromptPipeline insertAfter(Class<? extends PromptStage> type, PromptStage stage) {
        Objects.requireNonNull(stage, "stage");
        return insertAt(indexOf(type) + 1, stage);
    }

    private PromptPipeline insertAt(int index, PromptStage stage) {
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.add(index, stage);
        java.util.EnumMap<Position, Integer> moved = new java.util.EnumMap<>(Position.class);
        java.util.EnumMap<Position, Integer> count = new java.util.EnumMap<>(inserted);
        markers.forEach((p, at) -> {
            int n = inserted.getOrDefault(p, 0);
            // In front of the position's stages: they move along. Among them: one more. After them: nothing.
            moved.put(p, index < at || index == at && n > 0 ? at + 1 : at);
            if (index > at && index < at + n) {
                count.put(p, n + 1);
            }
        });
        return new PromptPipeline(copy, moved, count);
    }

    /** This pipeline without the first stage of {@code type}; positions stay where they were. */
    public PromptPipeline remove(Class<? extends PromptStage> type) {
        int index = indexOf(type);
        List<PromptStage> copy = new ArrayList<>(stages);
        copy.remove(index);
        java.util.EnumMap<Position, Integer> count = new java.util.EnumMap<>(inserted);
        java.util.EnumMap<Position, Integer> moved = new java.util.EnumMap<>(Position.class);
        markers.forEach((p, at) -> {
            int n = inserted.getOrDefault(p, 0);
            if (index >= at && index < at + n) {
                count.put(p, n - 1); // the removed stage was one inserted at this position
            }
            moved.put(p, at > index ? at - 1 : at);
        });
        return new PromptPipeline(copy, moved, count);
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

    /** Builds a pipeline with named positions: stages and positions in order, each position at most once. */
    public static final class Builder {
        private final List<PromptStage> stages = new ArrayList<>();
        private final java.util.EnumMap<Position, Integer> markers = new java.util.EnumMap<>(Position.class);

        private Builder() {
        }

        /** Adds the next stage. */
        public Builder stage(PromptStage stage) {
            stages.add(Objects.requireNonNull(stage, "stage"));
            return this;
        }

        /**
         * Marks the place after the stages added so far as {@code position}.
         *
         * @throws IllegalArgumentException when the position was marked already or comes before one marked
         */
        public Builder position(Position position) {
            Objects.requireNonNull(position, "position");
            for (Position marked : markers.keySet()) {
                if (marked.compareTo(position) >= 0) {
                    throw new IllegalArgumentException("position: " + position + " marked after " + marked);
                }
            }
            markers.put(position, stages.size());
            return this;
        }

        public PromptPipeline build() {
            return new PromptPipeline(stages, markers, new java.util.EnumMap<>(Position.class));
        }
    }
}
