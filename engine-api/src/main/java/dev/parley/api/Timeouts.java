package dev.parley.api;

import java.time.Duration;
import java.util.Objects;

/**
 * The engine's leases and waits, in one place and checked together. Immutable and thread safe.
 *
 * <pre>{@code
 * ConversationEngine.builder()
 *         .timeouts(Timeouts.builder().claimLease(Duration.ofSeconds(5)).replayWait(Duration.ofSeconds(20)).build())
 * }</pre>
 *
 * @param streamLease how long a stream's lock on its conversation lasts unless renewed; a running stream renews it
 *                    every third of the lease, so only a dead engine's lock waits it out
 * @param claimLease how long a turn's claim on its message id lasts unless renewed; a running turn renews it
 *                   every third of the lease, so a crashed engine's id is free again after one lease
 * @param replayWait how long a send of a message id waits for the same id in progress elsewhere before it is
 *                   refused with {@code CONVERSATION_LOCKED}; at least the claim lease, so that a resend after a
 *                   crash waits the dead claim out instead of being refused
 * @param streamIdle how long a stream may deliver nothing before it fails as {@code MODEL_UNAVAILABLE}
 */
public record Timeouts(Duration streamLease, Duration claimLease, Duration replayWait, Duration streamIdle) {
    /** Stream lease by default. */
    public static final Duration DEFAULT_STREAM_LEASE = Duration.ofSeconds(30);
    /** Claim lease by default: a crashed engine's message id is free again after it. */
    public static final Duration DEFAULT_CLAIM_LEASE = Duration.ofSeconds(10);
    /** Replay wait by default. */
    public static final Duration DEFAULT_REPLAY_WAIT = Duration.ofSeconds(60);
    /** Stream idle timeout by default. */
    public static final Duration DEFAULT_STREAM_IDLE = Duration.ofMinutes(2);
    /** The shortest stream lease. */
    public static final Duration MIN_STREAM_LEASE = Duration.ofMillis(30);
    /** The shortest claim lease: renewals every third of it must be able to keep up with a database. */
    public static final Duration MIN_CLAIM_LEASE = Duration.ofMillis(300);

    private static final Timeouts DEFAULTS = new Timeouts(DEFAULT_STREAM_LEASE, DEFAULT_CLAIM_LEASE,
            DEFAULT_REPLAY_WAIT, DEFAULT_STREAM_IDLE);

    /**
     * Checks each value and how they relate.
     *
     * @throws IllegalArgumentException naming the value that is out of range, or both values that disagree
     */
    public Timeouts {
        Objects.requireNonNull(streamLease, "streamLease");
        Objects.requireNonNull(claimLease, "claimLease");
        Objects.requireNonNull(replayWait, "replayWait");
        Objects.requireNonNull(streamIdle, "streamIdle");
        if (streamLease.compareTo(MIN_STREAM_LEASE) < 0) {
            throw new IllegalArgumentException("streamLease must be at least " + MIN_STREAM_LEASE + ", was " + streamLease);
        }
        if (claimLease.compareTo(MIN_CLAIM_LEASE) < 0) {
            throw new IllegalArgumentException("claimLease must be at least " + MIN_CLAIM_LEASE + ", was " + claimLease);
        }
        if (streamIdle.isNegative() || streamIdle.isZero()) {
            throw new IllegalArgumentException("streamIdle must be positive, was " + streamIdle);
        }
        if (replayWait.compareTo(claimLease) < 0) {
            throw new IllegalArgumentException("replayWait (" + replayWait + ") must be at least claimLease ("
                    + claimLease + "): a resend after a crash must be able to wait the dead claim out");
        }
    }

    /** The defaults: the {@code DEFAULT_*} constants above. */
    public static Timeouts defaults() {
        return DEFAULTS;
    }

    /** A builder starting from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String toString() {
        return "Timeouts{streamLease=" + streamLease + ", claimLease=" + claimLease + ", replayWait=" + replayWait
                + ", streamIdle=" + streamIdle + "}";
    }

    /**
     * Builds {@link Timeouts} from the defaults; each value may be set once, and is checked for range when set and
     * against the others in {@link #build()}. Not thread safe.
     */
    public static final class Builder {
        private Duration streamLease;
        private Duration claimLease;
        private Duration replayWait;
        private Duration streamIdle;

        private Builder() {
        }

        /** See {@link Timeouts#streamLease()}; {@link #DEFAULT_STREAM_LEASE} by default. */
        public Builder streamLease(Duration lease) {
            this.streamLease = once("streamLease", this.streamLease, lease);
            return this;
        }

        /** See {@link Timeouts#claimLease()}; {@link #DEFAULT_CLAIM_LEASE} by default. */
        public Builder claimLease(Duration lease) {
            this.claimLease = once("claimLease", this.claimLease, lease);
            return this;
        }

        /** See {@link Timeouts#replayWait()}; {@link #DEFAULT_REPLAY_WAIT} by default. */
        public Builder replayWait(Duration wait) {
            this.replayWait = once("replayWait", this.replayWait, wait);
            return this;
        }

        /** See {@link Timeouts#streamIdle()}; {@link #DEFAULT_STREAM_IDLE} by default. */
        public Builder streamIdle(Duration idle) {
            this.streamIdle = once("streamIdle", this.streamIdle, idle);
            return this;
        }

        private static Duration once(String name, Duration current, Duration value) {
            Objects.requireNonNull(value, name);
            if (current != null) {
                throw new IllegalStateException(name + " was already set to " + current);
            }
            if (value.isNegative()) {
                throw new IllegalArgumentException(name + " must not be negative, was " + value);
            }
            return value;
        }

        /**
         * The timeouts.
         *
         * @throws IllegalArgumentException when a value is out of range or the values disagree (see
         *                                  {@link Timeouts#Timeouts})
         */
        public Timeouts build() {
            return new Timeouts(streamLease == null ? DEFAULT_STREAM_LEASE : streamLease,
                    claimLease == null ? DEFAULT_CLAIM_LEASE : claimLease,
                    replayWait == null ? DEFAULT_REPLAY_WAIT : replayWait,
                    streamIdle == null ? DEFAULT_STREAM_IDLE : streamIdle);
        }
    }
}
