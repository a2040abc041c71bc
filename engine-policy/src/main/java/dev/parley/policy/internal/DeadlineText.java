package dev.parley.policy.internal;

/**
 * A text that stops a regular expression running past a deadline: every few thousand characters read, it checks
 * the clock and throws {@link DeadlineExceededException} once the deadline has passed. For patterns a host wrote,
 * which may backtrack catastrophically. Not thread safe: one per match.
 */
public final class DeadlineText implements CharSequence {
    private static final int CHECK_EVERY = 4096;

    private final String text;
    private final long deadlineNanos;
    private final String what;
    private int reads;

    /**
     * @param what names the pattern in the exception's message, for example "pattern 2"; never the text
     */
    public DeadlineText(String text, long deadlineNanos, String what) {
        this.text = text;
        this.deadlineNanos = deadlineNanos;
        this.what = what;
    }

    /** Thrown when a match runs past its deadline. */
    public static final class DeadlineExceededException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        DeadlineExceededException(String message) {
            super(message);
        }
    }

    @Override
    public char charAt(int index) {
        if (++reads >= CHECK_EVERY) {
            reads = 0;
            if (System.nanoTime() - deadlineNanos > 0) {
                throw new DeadlineExceededException(what + " ran past the check's time budget");
            }
        }
        return text.charAt(index);
    }

    @Override
    public int length() {
        return text.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return text.subSequence(start, end);
    }

    @Override
    public String toString() {
        return text;
    }
}
