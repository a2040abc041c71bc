package dev.parley.policy;

import dev.parley.api.InvalidRequestException;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.spi.Policy;
import dev.parley.policy.internal.Ids;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * Finds texts over a size limit ({@link Finding#SIZE}): more characters than {@link #maxChars()}, more tokens than
 * {@link #maxTokens()}, or either.
 *
 * <ul>
 *   <li><b>Characters</b> are UTF-16 code units ({@link String#length()}). At PRE and POST a text over the limit
 *       is one finding spanning it all. At DURING the window is part of a longer reply: the reply's size is
 *       {@link PolicyInput#offset()} plus the window's length, and the finding spans the part of the window past
 *       the limit.</li>
 *   <li><b>Tokens</b> are counted by {@link PolicyInput#tokenCounter()}, the turn's model's counter, at PRE and POST
 *       only: a window of a streamed reply has no meaningful token count of its own, so at DURING the token limit
 *       is not checked (use a character limit there, or check the token limit at POST). A text of at most a third
 *       as many characters as the limit is not counted: a token is at least one UTF-8 byte, and a character at
 *       most three.</li>
 * </ul>
 *
 * {@link #maxSpan()} is 1: a size is not a span to hold back. Immutable and thread safe.
 */
public final class SizePolicy implements Policy {
    /** The default id. */
    public static final String DEFAULT_ID = "size";

    private final String id;
    private final int maxChars;
    private final int maxTokens;

    private SizePolicy(String id, int maxChars, int maxTokens) {
        this.id = id;
        this.maxChars = maxChars;
        this.maxTokens = maxTokens;
    }

    /**
     * A limit of {@code limit} characters, with id {@value #DEFAULT_ID}.
     *
     * @throws InvalidRequestException naming {@code maxChars} unless it is positive
     */
    public static SizePolicy maxChars(int limit) {
        return builder().maxChars(limit).build();
    }

    /**
     * A limit of {@code limit} tokens, checked at PRE and POST, with id {@value #DEFAULT_ID}.
     *
     * @throws InvalidRequestException naming {@code maxTokens} unless it is positive
     */
    public static SizePolicy maxTokens(int limit) {
        return builder().maxTokens(limit).build();
    }

    /**
     * Both limits, with id {@value #DEFAULT_ID}: characters in every phase, tokens at PRE and POST.
     *
     * @throws InvalidRequestException naming {@code maxChars} or {@code maxTokens} unless it is positive
     */
    public static SizePolicy maxCharsAndTokens(int maxChars, int maxTokens) {
        return builder().maxChars(maxChars).maxTokens(maxTokens).build();
    }

    /** A character limit, a token limit or both. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The same limits with another id.
     *
     * @throws InvalidRequestException naming {@code id} when it is malformed
     */
    public SizePolicy withId(String newId) {
        return new SizePolicy(Ids.check(newId), maxChars, maxTokens);
    }

    @Override
    public String id() {
        return id;
    }

    /** The character limit; empty when there is none. */
    public OptionalInt maxCharsLimit() {
        return maxChars > 0 ? OptionalInt.of(maxChars) : OptionalInt.empty();
    }

    /** The token limit; empty when there is none. */
    public OptionalInt maxTokensLimit() {
        return maxTokens > 0 ? OptionalInt.of(maxTokens) : OptionalInt.empty();
    }

    @Override
    public int maxSpan() {
        return 1;
    }

    @Override
    public List<Finding> check(PolicyInput input) {
        Objects.requireNonNull(input, "input");
        String text = input.text();
        int length = text.length();
        List<Finding> found = new ArrayList<>(1);
        if (input.phase() == PolicyPhase.DURING) {
            long total = (long) input.offset() + length;
            if (maxChars > 0 && total > maxChars) {
                int start = (int) Math.max(0, (long) maxChars - input.offset());
                found.add(new Finding(start, length, Finding.SIZE, id, "reply of more than " + maxChars
                        + " characters"));
            }
            return found;
        }
        if (maxChars > 0 && length > maxChars) {
            found.add(new Finding(0, length, Finding.SIZE, id, "text of more than " + maxChars + " characters"));
        }
        if (maxTokens > 0 && (long) length * 3 > maxTokens) {
            int tokens = input.tokenCounter().count(text);
            if (tokens > maxTokens) {
                found.add(new Finding(0, length, Finding.SIZE, id, "text of more than " + maxTokens + " tokens"));
            }
        }
        return found;
    }

    @Override
    public String toString() {
        return "SizePolicy{id=" + id + ", maxChars=" + (maxChars > 0 ? maxChars : "none") + ", maxTokens="
                + (maxTokens > 0 ? maxTokens : "none") + "}";
    }

    /** Builds a {@link SizePolicy}; each option is checked when set and may be set once. Not thread safe. */
    public static final class Builder {
        private String id = DEFAULT_ID;
        private int maxChars;
        private int maxTokens;
        private boolean idSet;

        private Builder() {
        }

        /** The policy's id: {@value #DEFAULT_ID} unless set. */
        public Builder id(String value) {
            if (idSet) {
                throw new InvalidRequestException("id", "was already set");
            }
            this.id = Ids.check(value);
            idSet = true;
            return this;
        }

        /**
         * The most characters a text may have.
         *
         * @throws InvalidRequestException naming {@code maxChars} unless it is positive, or when set twice
         */
        public Builder maxChars(int limit) {
            if (maxChars > 0) {
                throw new InvalidRequestException("maxChars", "was already set to " + maxChars);
            }
            if (limit <= 0) {
                throw new InvalidRequestException("maxChars", "must be positive");
            }
            this.maxChars = limit;
            return this;
        }

        /**
         * The most tokens a text may have, checked at PRE and POST.
         *
         * @throws InvalidRequestException naming {@code maxTokens} unless it is positive, or when set twice
         */
        public Builder maxTokens(int limit) {
            if (maxTokens > 0) {
                throw new InvalidRequestException("maxTokens", "was already set to " + maxTokens);
            }
            if (limit <= 0) {
                throw new InvalidRequestException("maxTokens", "must be positive");
            }
            this.maxTokens = limit;
            return this;
        }

        /**
         * @throws InvalidRequestException naming {@code maxChars} when neither limit was set
         */
        public SizePolicy build() {
            if (maxChars == 0 && maxTokens == 0) {
                throw new InvalidRequestException("maxChars", "a size policy needs a character or token limit");
            }
            return new SizePolicy(id, maxChars, maxTokens);
        }
    }
}
