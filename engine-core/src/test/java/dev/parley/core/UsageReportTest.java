package dev.parley.core;

import dev.parley.api.AccessDeniedException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

/**
 * Usage reports: per day and per conversation, user, workspace or model, they agree with the sum of the stored turns
 * (requests, the stored prompts' own tokens, the requests' input tokens, output tokens and credits), and each caller
 * sees what their role allows. A subclass runs the tests on a database.
 */
public class UsageReportTest {
    private static final LocalDate DAY_ONE = LocalDate.parse("2026-06-01");
    private static final LocalDate DAY_TWO = LocalDate.parse("2026-06-02");

    private final ConversationStore store = newStore();
    private final RateLimitTest.ManualClock clock = new RateLimitTest.ManualClock();
    private final String org = "org-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    private ConversationEngine engine;

    /** The store the engine uses; a subclass runs the tests on another. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Caller member(String user) {
        return Caller.user(user, org).member("ws-1").member("ws-2").build();
    }

    private Caller admin(String workspace) {
        return Caller.user("boss-" + workspace, org).admin(workspace).build();
    }

    private Caller orgAdmin() {
        return Caller.user("root", org).organizationAdmin().build();
    }

    /** Every row of a report, across its pages of 2. */
    private List<UsageRow> all(Caller caller, UsageQuery query) {
        List<UsageRow> rows = new ArrayList<>();
        for (int page = 1; ; page++) {
            Page<UsageRow> p = engine.as(caller).usage(query, PageRequest.of(page, 2));
            rows.addAll(p.items());
            if (page >= p.totalPages()) {
                return rows;
            }
        }
    }

    /** The turns the test stored, as the caller got them: who sent each, where, with which model, and when. */
    private record Sent(String user, String workspace, String conversationId, String model, LocalDate day, Reply reply,
                        long promptTokens) {
    }

    private final List<Sent> sent = new ArrayList<>();

    private void send(Conversation c, String user, String workspace, String model, LocalDate day, String text) {
        Reply r = c.send(Prompt.text(text).model(model).build());
        Message stored = c.messages(PageRequest.of(1, 100)).items().stream()
                .filter(m -> m.role() == Role.USER && m.id().equals(r.promptId())).findFirst().orElseThrow();
        sent.add(new Sent(user, workspace, c.id(), model, day, r, stored.tokens()));
    }

    private static Map<String, long[]> expected(List<Sent> turns, Function<Sent, String> key) {
        Map<String, long[]> out = new HashMap<>();
        for (Sent s : turns) {
            long[] c = out.computeIfAbsent(s.day() + "|" + key.apply(s), k -> new long[4]);
            c[0]++;
            c[1] += s.promptTokens();
            c[2] += s.reply().usage().tokensIn();
            c[3] += s.reply().usage().tokensOut();
        }
        return out;
    }

    private static Map<String, long[]> actual(List<UsageRow> rows) {
        Map<String, long[]> out = new HashMap<>();
        for (UsageRow r : rows) {
            assertThat(out.put(r.day() + "|" + r.key(), new long[]{r.requests(), r.promptTokens(), r.tokensIn(),
                    r.tokensOut()})).as("one row per day and key").isNull();
        }
        return out;
    }

    private void storeTurns() {
        ScriptedModel small = ScriptedModel.builder().replyWith(r -> "a short answer").usage(30, 4).build();
        ScriptedModel large = ScriptedModel.builder().replyWith(r -> "a longer answer of more words").build();
        engine = ConversationEngine.builder().store(store).clock(clock).model("small", small).model("large", large)
                .defaultModel("small").price("small", ModelPrice.perThousand("1", "2")).price("large", ModelPrice.FREE).build();
        engine.credits().topUp(engine.credits().open(AccountOwner.organization(org)).id(), new BigDecimal("100"),
                "test funds");
        Conversation alice1 = engine.as(member("alice")).create(NewConversation.inWorkspace("ws-1").build());
        Conversation alice2 = engine.as(member("alice")).create(NewConversation.inWorkspace("ws-2").build());
        Conversation bob1 = engine.as(member("bob")).create(NewConversation.inWorkspace("ws-1").build());
        send(alice1, "alice", "ws-1", "small", DAY_ONE, "hello there");
        send(alice1, "alice", "ws-1", "small", DAY_ONE, "and again, with some more words in it");
        send(alice2, "alice", "ws-2", "large", DAY_ONE, "the other workspace");
        send(bob1, "bob", "ws-1", "large", DAY_ONE, "bob asks");
        clock.advance(Duration.ofDays(1));
        send(bob1, "bob", "ws-1", "small", DAY_TWO, "bob asks the next day");
        send(alice1, "alice", "ws-1", "large", DAY_TWO, "alice too");
    }

    private static UsageQuery both(UsageQuery.GroupBy by) {
        return UsageQuery.by(by, DAY_ONE, DAY_TWO);
    }

    @Test
    void everyGroupingAgreesWithTheSumOfTheStoredTurns() {
        storeTurns();
        Map<UsageQuery.GroupBy, Function<Sent, String>> keys = Map.of(
                UsageQuery.GroupBy.CONVERSATION, Sent::conversationId, UsageQuery.GroupBy.USER, Sent::user,
                UsageQuery.GroupBy.WORKSPACE, Sent::workspace, UsageQuery.GroupBy.MODEL, Sent::model);
        keys.forEach((by, key) -> {
            List<UsageRow> rows = all(orgAdmin(), both(by));
            assertThat(actual(rows)).as(by.name()).containsOnlyKeys(expected(sent, key).keySet());
            expected(sent, key).forEach((k, v) -> assertThat(actual(rows).get(k)).as(by + " " + k).containsExactly(v));
            assertThat(rows).extracting(UsageRow::day).as("newest day first").isSortedAccordingTo(
                    java.util.Comparator.<LocalDate>reverseOrder());
        });
        BigDecimal charged = sent.stream().map(s -> s.reply().credits().used()).reduce(BigDecimal.ZERO, BigDecimal::add);
        assertThat(charged).isPositive();
        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.MODEL)).stream().map(UsageRow::credits)
                .reduce(BigDecimal.ZERO, BigDecimal::add)).isEqualByComparingTo(charged);
        // The stored prompt's own count is not the request's input: the request carries the history too.
        long prompts = sent.stream().mapToLong(Sent::promptTokens).sum();
        long inputs = sent.stream().mapToLong(s -> s.reply().usage().tokensIn()).sum();
        assertThat(prompts).isPositive().isLessThan(inputs);
    }

    /**
     * Sixteen threads send at once into two conversations, the same user, model and day: every turn is counted once
     * in its conversation's day (a store that sums a day per row must never lose an addition or make the row
     * twice), and the credits sum to what the replies were charged.
     */
    @Test
    void concurrentTurnsOfOneConversationDayUserAndModelAreEachCountedOnce() throws Exception {
        ScriptedModel small = ScriptedModel.builder().replyWith(r -> "a short answer").usage(30, 4).build();
        engine = ConversationEngine.builder().store(store).clock(clock).model("small", small)
                .price("small", ModelPrice.perThousand("1", "2")).build();
        engine.credits().topUp(engine.credits().open(AccountOwner.organization(org)).id(), new BigDecimal("1000"),
                "test funds");
        List<Conversation> conversations = List.of(
                engine.as(member("alice")).create(NewConversation.inWorkspace("ws-1").build()),
                engine.as(member("alice")).create(NewConversation.inWorkspace("ws-2").build()));
        int threads = 16;
        int perThread = 10;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        List<java.util.concurrent.Future<List<Reply>>> futures = new ArrayList<>();
        try {
            for (int t = 0; t < threads; t++) {
                Conversation c = conversations.get(t % 2);
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    List<Reply> replies = new ArrayList<>();
                    for (int i = 0; i < perThread; i++) {
                        replies.add(c.send(Prompt.text("thread " + thread + " turn " + i).build()));
                    }
                    return replies;
                }));
            }
            start.countDown();
            BigDecimal charged = BigDecimal.ZERO;
            for (java.util.concurrent.Future<List<Reply>> f : futures) {
                for (Reply r : f.get(60, java.util.concurrent.TimeUnit.SECONDS)) {
                    charged = charged.add(r.credits().used());
                }
            }
            List<UsageRow> rows = all(orgAdmin(), UsageQuery.by(UsageQuery.GroupBy.CONVERSATION, DAY_ONE, DAY_ONE));
            assertThat(rows).extracting(UsageRow::key, UsageRow::requests).containsExactlyInAnyOrder(
                    tuple(conversations.get(0).id(), (long) threads / 2 * perThread),
                    tuple(conversations.get(1).id(), (long) threads / 2 * perThread));
            assertThat(charged).isPositive();
            assertThat(rows.stream().map(UsageRow::credits).reduce(BigDecimal.ZERO, BigDecimal::add))
                    .isEqualByComparingTo(charged);
            assertThat(rows.stream().mapToLong(UsageRow::tokensOut).sum()).isEqualTo(4L * threads * perThread);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void filtersNarrowTheReportToAWorkspaceUserConversationModelOrDay() {
        storeTurns();
        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.USER).inWorkspace("ws-2")))
                .singleElement().satisfies(r -> {
                    assertThat(r.key()).isEqualTo("alice");
                    assertThat(r.requests()).isEqualTo(1);
                });
        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.MODEL).ofUser("bob")))
                .extracting(UsageRow::day, UsageRow::key)
                .containsExactly(tuple(DAY_TWO, "small"),
                        tuple(DAY_ONE, "large"));
        assertThat(all(orgAdmin(), UsageQuery.by(UsageQuery.GroupBy.WORKSPACE, DAY_TWO, DAY_TWO)))
                .extracting(UsageRow::key, UsageRow::requests)
                .containsExactly(tuple("ws-1", 2L));
        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.USER).ofModel("large").inConversation(sent.get(0).conversationId())))
                .extracting(UsageRow::key, UsageRow::requests)
                .containsExactly(tuple("alice", 1L));
    }

    @Test
    void usersSeeTheirOwnWorkspaceAdminsTheirWorkspaceAndOrganizationAdminsAll() {
        storeTurns();
        // A member's report is of their own turns, whatever it asks for.
        assertThat(all(member("bob"), both(UsageQuery.GroupBy.USER))).extracting(UsageRow::key).containsOnly("bob");
        assertThat(all(member("bob"), both(UsageQuery.GroupBy.USER).inWorkspace("ws-1")))
                .extracting(UsageRow::key).containsOnly("bob");
        assertThatThrownBy(() -> engine.as(member("bob")).usage(both(UsageQuery.GroupBy.USER).ofUser("alice"),
                PageRequest.first())).isInstanceOf(AccessDeniedException.class);
        // A workspace admin sees everyone's in that workspace, and only their own elsewhere.
        assertThat(all(admin("ws-1"), both(UsageQuery.GroupBy.USER).inWorkspace("ws-1")))
                .extracting(UsageRow::key).containsOnly("alice", "bob");
        assertThat(all(admin("ws-1"), both(UsageQuery.GroupBy.USER).inWorkspace("ws-2"))).isEmpty();
        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.WORKSPACE))).extracting(UsageRow::key)
                .containsOnly("ws-1", "ws-2");
        // Another organization's admin sees nothing of this one.
        assertThat(engine.as(Caller.user("root", "org-other").organizationAdmin().build())
                .usage(both(UsageQuery.GroupBy.WORKSPACE), PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aBlockedTurnsSpentTokensAreInTheReport() {
        ScriptedModel model = ScriptedModel.builder().replies("Your key is " + GovernanceTest.SECRET).usage(25, 9).build();
        engine = ConversationEngine.builder().store(store).clock(clock).model("small", model)
                .policies(PolicySet.of(PolicyRule.block(new GovernanceTest.KeyPolicy()).phases(PolicyPhase.POST).build()))
                .build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace("ws-1").build());
        assertThatThrownBy(() -> c.send(Prompt.text("my key?").build())).isInstanceOf(PolicyBlockedException.class);

        assertThat(all(orgAdmin(), both(UsageQuery.GroupBy.CONVERSATION))).singleElement().satisfies(r -> {
            assertThat(r.key()).isEqualTo(c.id());
            assertThat(r.requests()).isEqualTo(1);
            assertThat(r.tokensIn()).isEqualTo(25);
            assertThat(r.tokensOut()).isEqualTo(9);
        });
    }

    @Test
    void aBadQueryIsRefusedNamingTheField() {
        record Bad(String field, Runnable call) {
        }
        List<Bad> bad = List.of(
                new Bad("groupBy", () -> UsageQuery.by(null, DAY_ONE, DAY_TWO)),
                new Bad("from", () -> UsageQuery.by(UsageQuery.GroupBy.USER, null, DAY_TWO)),
                new Bad("to", () -> UsageQuery.by(UsageQuery.GroupBy.USER, DAY_TWO, DAY_ONE)),
                new Bad("to", () -> UsageQuery.by(UsageQuery.GroupBy.USER, DAY_ONE, DAY_ONE.plusDays(366))),
                new Bad("workspaceId", () -> both(UsageQuery.GroupBy.USER).inWorkspace(" ")),
                new Bad("userId", () -> both(UsageQuery.GroupBy.USER).ofUser("a\u0000b")),
                new Bad("model", () -> both(UsageQuery.GroupBy.USER).ofModel("")));
        for (Bad b : bad) {
            assertThatThrownBy(b.call()::run).as(b.field()).isInstanceOfSatisfying(InvalidRequestException.class,
                    e -> assertThat(e.field()).isEqualTo(b.field()));
        }
    }
}
