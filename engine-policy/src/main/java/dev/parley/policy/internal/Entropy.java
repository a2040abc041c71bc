package dev.parley.policy.internal;

/** Shannon entropy of a string. Not API. */
public final class Entropy {
    private Entropy() {
    }

    /** The Shannon entropy in bits per character of {@code s}'s characters: 0 for an empty string. */
    public static double bitsPerChar(CharSequence s) {
        int n = s.length();
        if (n == 0) {
            return 0;
        }
        java.util.Map<Character, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            counts.merge(s.charAt(i), 1, Integer::sum);
        }
        double h = 0;
        for (int c : counts.values()) {
            double p = (double) c / n;
            h -= p * (Math.log(p) / Math.log(2));
        }
        return h;
    }
}
