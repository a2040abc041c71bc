package dev.parley.api.spi;

import dev.parley.api.values.TurnStream;

import java.util.Objects;

/**
 * Stands between a streamed reply and the caller: sees the text before the caller's listener does, and decides
 * what of it goes on, when, and as what. A stage registers one with {@link TurnStream#addFilter} before it
 * proceeds. A filter can
 * <ul>
 *   <li><b>hold back</b> a tail it cannot judge yet (the start of what may be a secret split across deltas),</li>
 *   <li><b>release</b> checked text, and</li>
 *   <li><b>replace</b> text (redaction) before anyone sees it.</li>
 * </ul>
 * What the filters release is what the listener receives and what is stored as the reply, so the caller, the
 * history and the replay of the message id all see the same text.
 *
 * <p>Each call gets {@code pending}: the text this filter held back before, followed by the new text. It answers
 * with a {@link Release}: the first {@link Release#consumed() consumed} characters of {@code pending} go on as
 * {@link Release#text() text} (themselves, or a replacement), and the rest stays held for the next call. When the
 * model's answer is complete, a last call with {@code end = true} must consume everything; text held when the
 * stream is cancelled or fails is dropped: nobody saw it, so it is not part of the reply.
 *
 * <p><b>Threads.</b> A filter never runs on a provider's callback thread: text a provider delivers from its own
 * threads is queued and filtered on the thread that runs the turn, so a slow check delays the text it checks but
 * never the provider. A filter is called for one stream at a time, never concurrently, so it may keep per-stream
 * state; create one per stream (in the stage's {@code intercept}), not one per stage.
 *
 * <p><b>Order.</b> Text passes the filters of a stream in the reverse order of their registration: the one the
 * innermost stage (nearest the model) registered sees the model's text first, as a reply travels back up the
 * pipeline; the outermost stage's filter sees last what the others released. {@link TurnStream.ChunkHook}s take
 * part in the same order and see released text.
 *
 * <p><b>Failures.</b> A {@link dev.parley.api.ParleyException} (for example a
 * {@link dev.parley.api.PolicyBlockedException}) fails the turn and nothing is stored; any other exception, a
 * release that consumes more than it was given, holding more than {@link #MAX_HELD} characters, or not
 * consuming everything at the end fails it with an {@link IllegalStateException} naming the stage that added the
 * filter.
 */
@FunctionalInterface
public interface StreamFilter {

    /** The most characters a filter may hold back at once; a filter that must see a whole reply is a check of the stored reply instead. */
    int MAX_HELD = 16_384;

    /**
     * Decides what of {@code pending} goes on now.
     *
     * @param pending what this filter held back before, followed by the new text; never empty unless {@code end}
     * @param end true on the last call, when the model's answer is complete: the release must consume all of
     *            {@code pending}
     * @return what to release, never null
     */
    Release filter(String pending, boolean end);

    /**
     * The model call starts again (a retry or a fallback at
     * {@link dev.parley.api.PromptPipeline.Position#BEFORE_MODEL_CALL}) before any text reached the caller: what this
     * filter held was dropped, and the next call's {@code pending} is the new attempt's text alone. A filter that
     * keeps state beside what it holds forgets it here. The default does nothing.
     */
    default void restart() {
    }

    /**
     * What a filter lets go of: the first {@code consumed} characters of what it was given, passed on as
     * {@code text}.
     *
     * @param consumed how many characters of the given text this release accounts for, from the start;
     *                 0 to hold everything
     * @param text what goes on in their place: the same characters to release them, other text to replace them,
     *             or empty to drop them
     */
    record Release(int consumed, String text) {

        private static final Release HOLD = new Release(0, "");

        public Release {
            if (consumed < 0) {
                throw new IllegalArgumentException("consumed must not be negative: " + consumed);
            }
            Objects.requireNonNull(text, "text");
        }

        /** Holds everything given for now. */
        public static Release hold() {
            return HOLD;
        }

        /** Releases all of {@code pending} unchanged. */
        public static Release all(String pending) {
            return new Release(pending.length(), pending);
        }

        /** Releases the first {@code length} characters of {@code pending} unchanged and holds the rest. */
        public static Release prefix(String pending, int length) {
            return new Release(length, pending.substring(0, length));
        }

        /** Passes {@code replacement} on in place of the first {@code consumed} characters and holds the rest. */
        public static Release replace(int consumed, String replacement) {
            return new Release(consumed, replacement);
        }

        /** Counts only, never the text itself: it may be what a policy redacts. */
        @Override
        public String toString() {
            return "Release[consumed=" + consumed + ", length=" + text.length() + "]";
        }
    }
}
