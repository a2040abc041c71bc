package dev.parley.store.jdbc;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.RateLimitedException;
import dev.parley.api.RateLimits;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two engines, each with its own store and connection pool on one PostgreSQL database, 16 threads on each, all
 * sending at once in one minute (a fixed clock) against a limit of 25 requests per minute per workspace: between
 * them they accept exactly 25 (no more, and no fewer) and refuse every other request with
 * {@link RateLimitedException}, the model answers exactly 25 times, 25 turns are stored, and the workspace's
 * counter row holds 25.
 *
 * <p>What it proves: an admission is one atomic statement per key on the database ({@code INSERT ... ON CONFLICT
 * DO UPDATE ... WHERE ... RETURNING}), so that concurrent admissions on two pools are serialized by the counter's
 * row lock and each sees the count the one before it left: no two engines both admit the 25th request (which
 * would accept more than 25), no admission is lost between them (which would let more through later), and a
 * refused request counts nothing (the counter stays at 25, and exactly 25 were accepted rather than fewer).
 */
class TwoEnginesRateLimitOnPostgresTest {
    private static final int LIMIT = 25;
    private static final int THREADS_PER_ENGINE = 16;
    private static final int SENDS_PER_THREAD = 3;
    /** Thirty seconds into a minute: every send is in the same window. */
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-06-01T12:00:30Z"), ZoneOffset.UTC);

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void twoEnginesOnTwoPoolsAcceptExactlyTheWorkspaceLimitInAMinute() throws Exception {
        String org = "org-" + UUID.randomUUID();
        RateLimits limits = RateLimits.builder().perWorkspace(LIMIT, 0).build();
        ScriptedModel modelA = ScriptedModel.echo();
        ScriptedModel modelB = ScriptedModel.echo();
        try (ConversationEngine a = ConversationEngine.builder().store(TestDatabases.postgres()).clock(CLOCK)
                     .model("m", modelA).rateLimits(limits).build();
             ConversationEngine b = ConversationEngine.builder()
                     .store(JdbcConversationStore.of(TestDatabases.postgresUrl(), null, null)).clock(CLOCK)
                     .model("m", modelB).rateLimits(limits).build()) {
            List<Conversation> conversations = new ArrayList<>();
            for (int i = 0; i < 2 * THREADS_PER_ENGINE; i++) {
                Caller caller = Caller.user("u" + i, org).member("ws").build();
                conversations.add((i % 2 == 0 ? a : b).as(caller).create(NewConversation.inWorkspace("ws").build()));
            }
            ExecutorService pool = Executors.newFixedThreadPool(conversations.size());
            CountDownLatch start = new CountDownLatch(1);
            List<Future<int[]>> threads = new ArrayList<>();
            try {
                for (Conversation c : conversations) {
                    threads.add(pool.submit(() -> {
                        start.await();
                        int[] acceptedRefused = new int[2];
                        for (int s = 0; s < SENDS_PER_THREAD; s++) {
                            try {
                                c.send(Prompt.text("hello " + s).build());
                                acceptedRefused[0]++;
                            } catch (RateLimitedException e) {
                                acceptedRefused[1]++;
                            }
                        }
                        return acceptedRefused;
                    }));
                }
                start.countDown();
                int accepted = 0;
                int refused = 0;
                for (Future<int[]> f : threads) {
                    int[] r = f.get(60, TimeUnit.SECONDS);
                    accepted += r[0];
                    refused += r[1];
                }
                assertThat(accepted).isEqualTo(LIMIT);
                assertThat(refused).isEqualTo(2 * THREADS_PER_ENGINE * SENDS_PER_THREAD - LIMIT);
                assertThat(modelA.callCount() + modelB.callCount()).isEqualTo(LIMIT);
            } finally {
                pool.shutdownNow();
            }
            long stored = 0;
            for (Conversation c : conversations) {
                stored += c.messages(PageRequest.first()).totalElements();
            }
            assertThat(stored).as("stored messages, two per accepted turn").isEqualTo(2L * LIMIT);
            // The engine's key of a workspace: its kind, then each id length-prefixed.
            String key = "workspace:" + org.length() + ":" + org + ";" + "ws".length() + ":ws;";
            assertThat(counter(key)).as("the workspace's counter").isEqualTo(LIMIT);
        }
    }

    private static long counter(String key) throws Exception {
        try (Connection c = DriverManager.getConnection(TestDatabases.postgresUrl());
             PreparedStatement s = c.prepareStatement("SELECT requests FROM parley_rate_counter WHERE counter_key = ?")) {
            s.setString(1, key);
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                return rs.getLong(1);
            }
        }
    }
}
