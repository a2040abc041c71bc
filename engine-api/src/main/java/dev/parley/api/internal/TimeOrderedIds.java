package dev.parley.api.internal;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ids that sort in the order they were made: UUIDs of version 7 (RFC 9562), whose first 48 bits are the time in
 * milliseconds and the next 12 a counter, so that ids made in this JVM, even in the same millisecond, increase; the
 * last 62 bits are random, so ids made in different JVMs do not collide. An index on such ids grows at its end, where
 * a random UUID would touch a random page of it on every insert: a B-tree database (H2's file, PostgreSQL) writes
 * less for each. Their text is the usual 36 characters, in lower case, which sort as the ids do. Thread safe.
 */
public final class TimeOrderedIds {
    /** The last time and counter given out: milliseconds shifted left by 12, plus the counter. */
    private static final AtomicLong LAST = new AtomicLong();

    private TimeOrderedIds() {
    }

    /** A new id, greater than every id this JVM made before. */
    public static String next() {
        long now = System.currentTimeMillis() << 12;
        long stamp = LAST.updateAndGet(last -> Math.max(last + 1, now));
        long msb = ((stamp >>> 12) << 16) | 0x7000L | (stamp & 0xFFFL);
        long lsb = (ThreadLocalRandom.current().nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(msb, lsb).toString();
    }
}
