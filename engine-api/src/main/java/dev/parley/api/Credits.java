package dev.parley.api;

/**
 * Credits spent on a turn and left on the account afterwards. An engine without credit accounting reports
 * {@link #unmetered()}: {@code metered()} is false and both numbers are zero. Immutable and thread safe.
 *
 * @param metered whether an account was charged for the turn
 * @param used credits the turn cost
 * @param remaining credits left on the account after the turn
 */
public record Credits(boolean metered, long used, long remaining) {
    private static final Credits UNMETERED = new Credits(false, 0, 0);

    public Credits {
        if (used < 0 || remaining < 0) {
            throw new IllegalArgumentException("credits must not be negative: " + used + ", " + remaining);
        }
    }

    /** No account was charged. */
    public static Credits unmetered() {
        return UNMETERED;
    }
}
