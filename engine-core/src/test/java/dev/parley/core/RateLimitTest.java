package dev.parley.core;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.RateLimitedException;
import dev.parley.api.RateLimits;
import dev.parley.api.Reply;
import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Rate limits: requests and tokens per minute per caller, workspace and organization, refused before anything runs
 * (a stream by {@code stream(...)} itself), counted on the store's counters so that every engine on the store shares
 * them. A subclass runs the tests on a database, the second engine on a pool of its own.
 */
public class RateLimitTest {
    /** A clock the test moves; it starts ten seconds into a minute. */
    static final class ManualClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-06-01T12:00:10Z"));

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        void advance(Duration by) {
            now.updateAndGet(t -> t.plus(by));
        }
    }

    private final List<ConversationEngine> engines = new ArrayList<>();
    private final ConversationStore store = newStore();
    private final ManualClock clock = new ManualClock();
    /** Each test's own organization, so that a database shared between tests starts with fresh counters. */
    private final String org = ORG + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);

    /** The store of the first engine; a subclass runs the tests on another. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /** A second store object on the same data as {@code first}; the same object in memory. */
    protected ConversationStore sameData(ConversationStore first) {
        return first;
    }

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private ConversationEngine engine(ConversationStore on, ScriptedModel model, RateLimits limits) {
        ConversationEngine e = ConversationEngine.builder().store(on).model(EngineFixture.MODEL, model).clock(clock)
                .rateLimits(limits).build();
        engines.add(e);
        return e;
    }

    private Caller user(String id) {
        return Caller.user(id, org).member(WS).member("ws-2").build();
    }

    private static Conversation conversation(ConversationEngine engine, Caller caller, String workspace) {
        return engine.as(caller).create(NewConversation.inWorkspace(workspace).build());
    }

    @Test
    void aCallerOverItsRequestsPerMinuteIsRefusedBeforeTheModelCallUntilTheMinuteEnds() {
        ScriptedModel model = ScriptedModel.echo();
        ConversationEngine engine = engine(store, model, RateLimits.builder().perCaller(3, 0).build());
        Conversation mine = conversation(engine, user("alice"), WS);
        for (int i = 0; i < 3; i++) {
            mine.send(Prompt.text("hello " + i).build());
        }

        assertThatThrownBy(() -> mine.send(Prompt.text("one too many").build()))
                .isInstanceOfSatisfying(RateLimitedException.class, e -> {
                    assertThat(e.scope()).isEqualTo(RateLimits.Scope.CALLER);
                    assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(50));
                    assertThat(e.getMessage()).doesNotContain("one too many");
                });
        assertThat(model.callCount()).isEqualTo(3);
        assertThat(mine.messages(PageRequest.first()).totalElements()).isEqualTo(6);

        // Another caller has a counter of its own; the next minute starts afresh.
        conversation(engine, user("bob"), WS).send(Prompt.text("hello").build());
        clock.advance(Duration.ofSeconds(50));
        mine.send(Prompt.text("a new minute").build());
        assertThat(model.callCount()).isEqualTo(5);
    }

    @Test
    void aStreamOverTheLimitIsRefusedByStreamItselfAndLeavesTheConversationFree() throws Exception {
        ScriptedModel model = ScriptedModel.echo();
        ConversationEngine engine = engine(store, model, RateLimits.builder().perCaller(1, 0).build());
        Conversation c = conversation(engine, user("alice"), WS);
        c.send(Prompt.text("hello").build());
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        assertThatThrownBy(() -> c.stream(Prompt.text("stream me").build(), r))
                .isInstanceOf(RateLimitedException.class);

        assertThat(r.terminalEvents()).isZero();
        assertThat(model.callCount()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(1));
        assertThat(c.stream(Prompt.text("stream me").build(), r).await(Duration.ofSeconds(30))).isTrue();
        assertThat(r.completions).hasSize(1);
    }

    @Test
    void workspaceAndOrganizationLimitsCountEveryCallerInThem() {
        ScriptedModel model = ScriptedModel.echo();
        ConversationEngine engine = engine(store, model,
                RateLimits.builder().perWorkspace(2, 0).perOrganization(3, 0).build());
        conversation(engine, user("alice"), WS).send(Prompt.text("1").build());
        conversation(engine, user("bob"), WS).send(Prompt.text("2").build());
        assertThatThrownBy(() -> conversation(engine, user("carol"), WS).send(Prompt.text("3").build()))
                .isInstanceOfSatisfying(RateLimitedException.class,
                        e -> assertThat(e.scope()).isEqualTo(RateLimits.Scope.WORKSPACE));
        // The refused request counted nowhere: the organization still has one request left, in another workspace.
        conversation(engine, user("carol"), "ws-2").send(Prompt.text("3").build());
        assertThatThrownBy(() -> conversation(engine, user("dave"), "ws-2").send(Prompt.text("4").build()))
                .isInstanceOfSatisfying(RateLimitedException.class,
                        e -> assertThat(e.scope()).isEqualTo(RateLimits.Scope.ORGANIZATION));
        assertThat(model.callCount()).isEqualTo(3);
    }

    @Test
    void aCallerOverItsTokensPerMinuteIsRefusedOnceItsStoredTurnsUsedThem() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "reply").usage(40, 20).build();
        ConversationEngine engine = engine(store, model, RateLimits.builder().perCaller(0, 100).build());
        Conversation c = conversation(engine, user("alice"), WS);

        c.send(Prompt.text("one").build()); // 60 tokens
        c.send(Prompt.text("two").build()); // 120: past the limit, which the next request sees
        assertThatThrownBy(() -> c.send(Prompt.text("three").build()))
                .isInstanceOfSatisfying(RateLimitedException.class, e -> assertThat(e.getMessage()).contains("tokens"));
        assertThat(model.callCount()).isEqualTo(2);
        clock.advance(Duration.ofMinutes(1));
        c.send(Prompt.text("three").build());
    }

    @Test
    void aReplayCountsAsARequestAndUsesNoTokens() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "reply").usage(40, 20).build();
        ConversationEngine engine = engine(store, model, RateLimits.builder().perCaller(2, 100).build());
        Conversation c = conversation(engine, user("alice"), WS);
        Prompt once = Prompt.text("one").id("m-1").build();

        c.send(once); // 1 request, 60 tokens
        assertThat(c.send(once).replayed()).isTrue(); // 2 requests, still 60 tokens

        assertThatThrownBy(() -> c.send(once)).isInstanceOfSatisfying(RateLimitedException.class,
                e -> assertThat(e.getMessage()).contains("requests"));
        assertThat(model.callCount()).isEqualTo(1);
        clock.advance(Duration.ofMinutes(1));
        c.send(Prompt.text("two").build()); // 60 tokens in the new minute: under 100
        c.send(Prompt.text("three").build()); // and one more request: 120 tokens now
        clock.advance(Duration.ofMinutes(1));
        assertThat(c.send(once).replayed()).isTrue();
    }

    @Test
    void aBlockedTurnsSpentTokensCountAgainstTheTokenLimit() {
        ScriptedModel model = ScriptedModel.builder().replyWith(r -> "Your key is " + GovernanceTest.SECRET)
                .usage(70, 40).build();
        ConversationEngine e = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model).clock(clock)
                .rateLimits(RateLimits.builder().perCaller(0, 100).build())
                .policies(dev.parley.api.policy.PolicySet.of(dev.parley.api.policy.PolicyRule
                        .block(new GovernanceTest.KeyPolicy()).phases(dev.parley.api.policy.PolicyPhase.POST).build()))
                .build();
        engines.add(e);
        Conversation c = conversation(e, user("alice"), WS);

        assertThatThrownBy(() -> c.send(Prompt.text("my key?").build()))
                .isInstanceOf(dev.parley.api.PolicyBlockedException.class); // 110 tokens spent and stored

        assertThatThrownBy(() -> c.send(Prompt.text("again").build())).isInstanceOf(RateLimitedException.class);
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void twoEnginesOnOneStoreShareTheCountersAndAcceptAtMostTheLimitInAMinute() throws Exception {
        int limit = 7;
        ScriptedModel first = ScriptedModel.echo();
        ScriptedModel second = ScriptedModel.echo();
        RateLimits limits = RateLimits.builder().perWorkspace(limit, 0).build();
        ConversationEngine a = engine(store, first, limits);
        ConversationEngine b = engine(sameData(store), second, limits);
        int threads = 16;
        List<Conversation> conversations = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            conversations.add(conversation(i % 2 == 0 ? a : b, user("u" + i), WS));
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Reply>> sends = new ArrayList<>();
        try {
            for (Conversation c : conversations) {
                sends.add(pool.submit(() -> {
                    start.await();
                    return c.send(Prompt.text("hello").build());
                }));
            }
            start.countDown();
            int accepted = 0;
            int refused = 0;
            for (Future<Reply> f : sends) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                    accepted++;
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(RateLimitedException.class);
                    refused++;
                }
            }
            assertThat(accepted).isEqualTo(limit);
            assertThat(refused).isEqualTo(threads - limit);
            assertThat(first.callCount() + second.callCount()).isEqualTo(limit);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void badLimitsAreRefusedNamingTheField() {
        assertThatThrownBy(() -> RateLimits.builder().perCaller(-1, 0))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("requestsPerMinute"));
        assertThatThrownBy(() -> RateLimits.builder().perWorkspace(1, -5))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("tokensPerMinute"));
        assertThat(RateLimits.builder().perOrganization(0, 0).build().isEmpty()).isTrue();
    }
}
