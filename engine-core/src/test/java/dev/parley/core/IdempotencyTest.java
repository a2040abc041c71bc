package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.spi.ConversationStore;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;

public class IdempotencyTest {
    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private final AtomicInteger calls = new AtomicInteger();
    private final ScriptedModel model = ScriptedModel.builder()
            .replyWith(r -> "reply #" + calls.incrementAndGet())
            .latency(Duration.ofMillis(50))
            .build();
    private final ConversationStore store = newStore();
    private final ConversationEngine engine = EngineFixture.builder(model, store).build();

    @AfterEach
    void close() {
        engine.close();
    }

    @Test
    void replayedIdReturnsTheStoredReplyWithoutASecondModelCall() {
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Reply first = c.send(Prompt.text("hello").id("m-1").build());
        Reply again = c.send(Prompt.text("hello").id("m-1").build());

        assertThat(model.callCount()).isEqualTo(1);
        assertThat(first.replayed()).isFalse();
        assertThat(again.replayed()).isTrue();
        assertThat(again.text()).isEqualTo(first.text());
        assertThat(again.messageId()).isEqualTo(first.messageId());
        assertThat(again.usage()).isEqualTo(first.usage());
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
        assertThat(c.info().tokensOut()).isEqualTo(first.usage().tokensOut());
    }

    @Test
    void thirtyTwoConcurrentSendsOfOneIdMakeOneModelCallAndAllGetTheSameReply() throws Exception {
        for (int round = 0; round < 20; round++) {
            Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
            int callsBefore = model.callCount();
            int threads = 32;
            String id = "msg-" + round;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Reply>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return c.send(Prompt.text("same question").id(id).build());
                }));
            }
            start.countDown();
            List<Reply> replies = new ArrayList<>();
            for (Future<Reply> f : futures) {
                replies.add(f.get(30, TimeUnit.SECONDS));
            }
            pool.shutdown();

            assertThat(model.callCount() - callsBefore).as("model calls in round %d", round).isEqualTo(1);
            Reply original = replies.stream().filter(r -> !r.replayed()).findFirst().orElseThrow();
            assertThat(replies.stream().filter(r -> !r.replayed())).hasSize(1);
            assertThat(replies).allSatisfy(r -> {
                assertThat(r.text()).isEqualTo(original.text());
                assertThat(r.messageId()).isEqualTo(original.messageId());
                assertThat(r.usage()).isEqualTo(original.usage());
            });
            assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
            assertThat(c.info().tokensOut()).isEqualTo(original.usage().tokensOut());
        }
    }

    @Test
    void concurrentSendsOfDistinctIdsAreAllStoredWithExactTotals() throws Exception {
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        int threads = 16;
        int perThread = 10;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<List<Reply>>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            futures.add(pool.submit(() -> {
                List<Reply> mine = new ArrayList<>();
                for (int i = 0; i < perThread; i++) {
                    mine.add(c.send(Prompt.text("q " + thread + " " + i).id(thread + "-" + i).build()));
                }
                return mine;
            }));
        }
        List<Reply> all = new ArrayList<>();
        for (Future<List<Reply>> f : futures) {
            all.addAll(f.get(60, TimeUnit.SECONDS));
        }
        pool.shutdown();

        var messages = c.messages(PageRequest.of(1, 100)).items().size()
                + c.messages(PageRequest.of(2, 100)).items().size()
                + c.messages(PageRequest.of(3, 100)).items().size()
                + c.messages(PageRequest.of(4, 100)).items().size();
        assertThat(messages).isEqualTo(threads * perThread * 2);
        assertThat(all).noneMatch(Reply::replayed);
        assertThat(c.info().tokensIn()).isEqualTo(all.stream().mapToLong(r -> r.usage().tokensIn()).sum());
        assertThat(c.info().tokensOut()).isEqualTo(all.stream().mapToLong(r -> r.usage().tokensOut()).sum());
        assertThat(model.callCount()).isEqualTo(threads * perThread);
    }

    @Test
    void aSendWithoutAnIdClaimsNothingYetItsGeneratedIdReplaysAndIsRefusedWithAnotherPrompt() {
        AtomicInteger claims = new AtomicInteger();
        ConversationStore counting = new dev.parley.core.internal.ForwardingConversationStore(newStore()) {
            @Override
            public dev.parley.api.values.TurnClaim claimTurn(String conversationId, String promptId, String fingerprint,
                                                           java.time.Instant at, Duration lease) {
                claims.incrementAndGet();
                return super.claimTurn(conversationId, promptId, fingerprint, at, lease);
            }
        };
        try (ConversationEngine e = EngineFixture.builder(model, counting).build()) {
            Conversation c = e.as(member("alice")).create(NewConversation.inWorkspace(WS).build());

            Reply first = c.send(Prompt.text("Transfer 10 EUR to Bob").build());
            assertThat(claims).as("claims made by a send without an id").hasValue(0);

            // The id the reply names works like a client's own from then on.
            Reply again = c.send(Prompt.text("Transfer 10 EUR to Bob").id(first.promptId()).build());
            assertThat(again.replayed()).isTrue();
            assertThat(again.text()).isEqualTo(first.text());
            org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                            c.send(Prompt.text("Transfer 9000 EUR to Mallory").id(first.promptId()).build()))
                    .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                            ex -> assertThat(ex.field()).isEqualTo("id"));
            assertThat(model.callCount()).isEqualTo(1);
            assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
        }
    }

    @Test
    void aReusedIdWithADifferentPromptIsRefusedNamingIdAndTheStoredReplyIsNotReturned() {
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        c.send(Prompt.text("Transfer 10 EUR to Bob").id("m-1").build());

        for (Prompt other : List.of(Prompt.text("Transfer 9000 EUR to Mallory").id("m-1").build(),
                Prompt.text("Transfer 10 EUR to Bob").id("m-1").additionalContext("urgent").build(),
                Prompt.text("Transfer 10 EUR to Bob").id("m-1").model(EngineFixture.MODEL).build())) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.send(other))
                    .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                            e -> assertThat(e.field()).isEqualTo("id"));
        }
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
        // What only changes how the reply is returned is the same request: a replay.
        assertThat(c.send(Prompt.text("Transfer 10 EUR to Bob").id("m-1").plaintext(true).build()).replayed()).isTrue();
    }

    @Test
    void aPromptIdEqualToAnExistingReplyIdIsRefusedBeforeAnyModelCallOnEveryTry() {
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Reply first = c.send(Prompt.text("hello").id("m-1").build());

        for (int attempt = 0; attempt < 3; attempt++) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.send(Prompt.text("again").id(first.messageId()).build()))
                    .isInstanceOfSatisfying(dev.parley.api.InvalidRequestException.class,
                            e -> assertThat(e.field()).isEqualTo("id"));
        }
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
    }

    @Test
    void theClaimOfAnEngineThatDiedFreesItsIdWithinTheLeaseAndTheResendGetsAFreshAnswer() {
        Duration lease = Duration.ofSeconds(1);
        try (ConversationEngine shortLeases = EngineFixture.builder(model, store)
                .timeouts(dev.parley.api.Timeouts.builder().replayWait(Duration.ofSeconds(30)).claimLease(lease).build())
                .build()) {
            Conversation c = shortLeases.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
            Prompt prompt = Prompt.text("hello").id("m-1").build();
            // What a JVM killed mid-send leaves behind: a pending claim that nobody renews any more.
            store.claimTurn(c.id(), "m-1", IdempotencyStage.fingerprint(prompt), java.time.Instant.now(), lease);

            Reply resent = c.send(prompt);

            assertThat(resent.replayed()).isFalse();
            assertThat(model.callCount()).isEqualTo(1);
            assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
        }
    }

    @Test
    void aTurnSlowerThanManyLeasesKeepsItsClaimSoAnotherEngineWaitsForItsReply() throws Exception {
        Duration lease = Duration.ofMillis(400);
        ScriptedModel slow = ScriptedModel.builder().replyWith(r -> "slow reply #" + calls.incrementAndGet())
                .latency(Duration.ofMillis(2_000)).build();
        java.util.function.Supplier<ConversationEngine> engineWithShortLeases = () -> EngineFixture.builder(slow, store)
                .timeouts(dev.parley.api.Timeouts.builder().replayWait(Duration.ofSeconds(30)).claimLease(lease).build())
                .build();
        ConversationEngine a = engineWithShortLeases.get();
        ConversationEngine b = engineWithShortLeases.get();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Conversation inA = a.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
            Conversation inB = b.as(member("alice")).get(inA.id());
            Prompt prompt = Prompt.text("hello").id("m-1").build();
            Future<Reply> first = pool.submit(() -> inA.send(prompt));
            while (slow.callCount() == 0) {
                Thread.onSpinWait();
            }

            Reply fromB = inB.send(prompt);

            assertThat(fromB.replayed()).isTrue();
            assertThat(fromB.messageId()).isEqualTo(first.get(30, TimeUnit.SECONDS).messageId());
            assertThat(slow.callCount()).as("model calls").isEqualTo(1);
        } finally {
            pool.shutdownNow();
            a.close();
            b.close();
        }
    }
}
