package dev.parley.core;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ScriptedModel;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Engines for tests: a scripted model named {@value #MODEL}, ids unique to the engine ("3f2a9c1e-1",
 * "3f2a9c1e-2", ...; engines may share a database) and a clock that advances one second per reading, so that
 * ordering by time is deterministic.
 */
public final class EngineFixture {
    public static final String MODEL = "scripted";
    public static final String ORG = "org-1";
    public static final String WS = "ws-1";

    private EngineFixture() {
    }

    /** A caller who is a member of {@link #WS}. */
    public static Caller member(String userId) {
        return Caller.user(userId, ORG).member(WS).build();
    }

    /** An engine builder with the fixture's model, clock and ids; the test adds what it needs. */
    public static ConversationEngine.Builder builder(ScriptedModel model, ConversationStore store) {
        return builder(model, store, new TickingClock(Instant.parse("2026-01-01T00:00:00Z")));
    }

    /** An engine builder with the fixture's model and ids, and this clock. */
    public static ConversationEngine.Builder builder(ScriptedModel model, ConversationStore store, Clock clock) {
        AtomicLong ids = new AtomicLong();
        String prefix = java.util.UUID.randomUUID().toString().substring(0, 8) + "-";
        return ConversationEngine.builder()
                .store(store)
                .model(MODEL, model)
                .clock(clock)
                .ids(() -> prefix + ids.incrementAndGet());
    }

    /** {@code stage} under another name, as the engine's contract errors and listener events name it. */
    public static dev.parley.api.spi.PromptStage named(String name, dev.parley.api.spi.PromptStage stage) {
        return new dev.parley.api.spi.PromptStage() {
            @Override
            public dev.parley.api.values.TurnResult intercept(Chain chain) {
                return stage.intercept(chain);
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    /** A clock that moves one second forward at each reading. Thread safe. */
    public static final class TickingClock extends Clock {
        private final AtomicLong seconds;

        public TickingClock(Instant start) {
            this.seconds = new AtomicLong(start.getEpochSecond());
        }

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochSecond(seconds.getAndIncrement());
        }

        /** Moves the clock {@code period} forward at once. */
        public void advance(java.time.Duration period) {
            seconds.addAndGet(period.getSeconds());
        }
    }
}
