package dev.parley.testing;

import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationLockedException;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.StoreFailureException;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The behaviour every {@link ConversationStore} must have. A store's test extends this class and says how to
 * open a store; every test here then runs against it. Each test works in conversations of its own random
 * organization, so a store may be shared between tests (a database that is expensive to create).
 */
public abstract class ConversationStoreContract {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    protected ConversationStore store;
    private String org;
    private final AtomicLong clock = new AtomicLong();

    /** A store to test; called before each test. */
    protected abstract ConversationStore openStore();

    /** Closes what {@link #openStore()} opened; called after each test. Closes the store by default. */
    protected void closeStore(ConversationStore s) {
        s.close();
    }

    @BeforeEach
    void open() {
        store = openStore();
        org = "org-" + UUID.randomUUID();
    }

    @AfterEach
    void close() {
        if (store != null) {
            closeStore(store);
        }
    }

    /** The lease of the claims these tests make: a minute, sixty ticks. */
    protected static final java.time.Duration LEASE = java.time.Duration.ofMinutes(1);

    /** A claim of {@code promptId} now, with the fingerprint {@code "fp-" + promptId}. */
    protected TurnClaim claim(ConversationInfo c, String promptId) {
        return claim(c, promptId, tick());
    }

    protected TurnClaim claim(ConversationInfo c, String promptId, Instant at) {
        return store.claimTurn(c.id(), promptId, "fp-" + promptId, at, LEASE);
    }

    /** The token of a claim that must have been granted. */
    protected static String token(TurnClaim claim) {
        assertThat(claim).isInstanceOf(TurnClaim.Claimed.class);
        return ((TurnClaim.Claimed) claim).token();
    }

    /** A distinct, increasing instant, one second apart. */
    protected Instant tick() {
        return T0.plusSeconds(clock.incrementAndGet());
    }

    protected ConversationInfo conversation(String workspace, String owner) {
        return conversation(workspace, null, owner);
    }

    protected ConversationInfo conversation(String workspace, String repository, String owner) {
        Instant at = tick();
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), org, workspace, repository, owner,
                Steering.NONE, null, 0, 0, at, at);
        store.insert(c, event(AuditEvent.Type.CONVERSATION_CREATED, c));
        return c;
    }

    /** An audit event of {@code type} for conversation {@code c}. */
    protected AuditEvent event(AuditEvent.Type type, ConversationInfo c) {
        return new AuditEvent("e-" + UUID.randomUUID(), type, c.id(), c.organizationId(), c.workspaceId(),
                c.ownerId(), tick(), "");
    }

    protected String organization() {
        return org;
    }

    /** Stores one turn (prompt and reply) and returns the stored reply. */
    protected Message turn(ConversationInfo c, String promptId, String prompt, String reply, Usage usage) {
        Instant at = tick();
        Message user = new Message(promptId, c.id(), 0, Role.USER, prompt, prompt.length(), null, "u", "s",
                MessageStatus.COMPLETE, at, null);
        Message answer = new Message("r-" + promptId, c.id(), 0, Role.ASSISTANT, reply, reply.length(), "m", "u", "s",
                MessageStatus.COMPLETE, at, usage);
        String token = token(claim(c, promptId, at));
        return store.commitTurn(new TurnRecord(c.id(), promptId, user, answer, usage, true, at, token));
    }

    private ConversationFilter everything() {
        return new ConversationFilter(org, true, Set.of(), "nobody", null, null);
    }

    @Test
    void aStoredConversationReadsBackWhole() {
        Instant at = tick();
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), org, "ws", "repo", "alice",
                new Steering("Be 'terse'; -- \"ok\" 😀", "p-1", "bv-1", "ta-1"), "gpt", 0, 0, at, at);
        store.insert(c, event(AuditEvent.Type.CONVERSATION_CREATED, c));
        assertThat(store.find(c.id())).contains(c);
        assertThat(store.find("c-unknown-" + UUID.randomUUID())).isEmpty();
    }

    @Test
    void settingsChangeWithoutTouchingTotals() {
        ConversationInfo c = conversation("ws", "alice");
        turn(c, "m1", "hi", "hello", new Usage(10, 3));
        Instant at = tick();
        Steering s = new Steering(null, "p-2", null, "ta-9");

        ConversationInfo updated = store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder()
                .personalityId("p-2").targetAudienceId("ta-9").modelName("other-model").build(), at,
                event(AuditEvent.Type.CONVERSATION_UPDATED, c)).orElseThrow();

        assertThat(updated.steering()).isEqualTo(s);
        assertThat(updated.modelName()).isEqualTo("other-model");
        assertThat(updated.updatedAt()).isEqualTo(at);
        assertThat(store.events(c.id())).extracting(AuditEvent::type)
                .containsExactly(AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.CONVERSATION_UPDATED);
        assertThat(updated.tokensIn()).isEqualTo(10);
        assertThat(store.find(c.id())).contains(updated);
    }

    @Test
    void modelParametersAreKeptExactlyAndAPatchReplacesOrClearsThemAsAWhole() {
        // Stop sequences with the characters a store might use to join them, and a newline.
        dev.parley.api.ModelParameters all = dev.parley.api.ModelParameters.builder().maxOutputTokens(1_000_000)
                .temperature(0.7).stopSequences(List.of("\n", "3:abc", ":", "\u00e9\uD83D\uDE80,;|"))
                .responseFormat(dev.parley.api.ModelParameters.ResponseFormat.JSON).build();
        Instant at = tick();
        ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID(), org, "ws", null, "alice", Steering.NONE,
                null, 0, 0, at, at, all);
        store.insert(c, event(AuditEvent.Type.CONVERSATION_CREATED, c));
        assertThat(store.find(c.id()).orElseThrow().modelParameters()).isEqualTo(all);

        // Other fields patched: the parameters stay.
        store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().modelName("m").build(), tick(),
                event(AuditEvent.Type.CONVERSATION_UPDATED, c));
        assertThat(store.find(c.id()).orElseThrow().modelParameters()).isEqualTo(all);

        // Replaced as a whole: what the new set leaves unset is unset.
        dev.parley.api.ModelParameters some = dev.parley.api.ModelParameters.builder().temperature(0.0).build();
        ConversationInfo replaced = store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder()
                .modelParameters(some).build(), tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c)).orElseThrow();
        assertThat(replaced.modelParameters()).isEqualTo(some);
        assertThat(replaced.modelName()).isEqualTo("m");
        assertThat(store.find(c.id()).orElseThrow().modelParameters()).isEqualTo(some);

        store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().modelParameters(null).build(), tick(),
                event(AuditEvent.Type.CONVERSATION_UPDATED, c));
        assertThat(store.find(c.id()).orElseThrow().modelParameters()).isEqualTo(dev.parley.api.ModelParameters.NONE);
        assertThat(conversation("ws", "alice").modelParameters()).isEqualTo(dev.parley.api.ModelParameters.NONE);
    }

    @Test
    void concurrentPatchesOfDifferentFieldsAllTakeEffect() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        atOnce(8, i -> switch (i % 4) {
            case 0 -> store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().personality("P").build(), tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c));
            case 1 -> store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().personalityId("pid").build(), tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c));
            case 2 -> store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().brandVoiceId("bv").build(), tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c));
            default -> store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().modelName("m").build(), tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c));
        });
        ConversationInfo after = store.find(c.id()).orElseThrow();
        assertThat(after.steering()).isEqualTo(new Steering("P", "pid", "bv", null));
        assertThat(after.modelName()).isEqualTo("m");
    }

    @Test
    void aDeletedConversationIsGoneFromEveryReadAndWrite() {
        ConversationInfo c = conversation("ws", "alice");
        turn(c, "m0", "before", "the delete", new Usage(1, 1));
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isTrue();

        assertThat(store.find(c.id())).isEmpty();
        assertThat(store.messages(c.id(), PageRequest.first()).items()).isEmpty();
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isFalse();
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.CONVERSATION_DELETED);
        assertThat(store.updateSettings(c.id(), dev.parley.api.ConversationPatch.builder().personality(null).build(),
                tick(), event(AuditEvent.Type.CONVERSATION_UPDATED, c))).isEmpty();
        assertThat(store.events(c.id())).hasSize(2);
        assertThat(store.list(everything(), PageRequest.first()).items()).isEmpty();
        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));
        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at)))
                .isInstanceOf(ConversationNotFoundException.class);
    }

    @Test
    void turnsAreNumberedInOrderAndAddToTheTotals() {
        ConversationInfo c = conversation("ws", "alice");
        Message first = turn(c, "m1", "one", "uno", new Usage(10, 2));
        Message second = turn(c, "m2", "two", "dos", new Usage(20, 3));

        assertThat(first.sequence()).isEqualTo(2);
        assertThat(second.sequence()).isEqualTo(4);
        Page<Message> all = store.messages(c.id(), PageRequest.first());
        assertThat(all.items()).extracting(Message::sequence).containsExactly(1L, 2L, 3L, 4L);
        assertThat(all.items()).extracting(Message::text).containsExactly("one", "uno", "two", "dos");
        assertThat(all.items().get(0).id()).isEqualTo("m1");
        assertThat(all.items().get(0).user()).isEqualTo("u");
        assertThat(all.items().get(1).usage()).isEqualTo(new Usage(10, 2));
        assertThat(all.items().get(0).usage()).isNull();
        assertThat(all.totalElements()).isEqualTo(4);
        ConversationInfo info = store.find(c.id()).orElseThrow();
        assertThat(info.tokensIn()).isEqualTo(30);
        assertThat(info.tokensOut()).isEqualTo(5);
    }

    @Test
    void aTurnOutsideTheHistoryOnlyAddsToTheTotals() {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(7, 1));
        store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(7, 1), false, at));

        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(7);
    }

    @Test
    void recentMessagesComeNewestFirstBelowTheGivenSequence() {
        ConversationInfo c = conversation("ws", "alice");
        for (int i = 1; i <= 5; i++) {
            turn(c, "m" + i, "q" + i, "a" + i, new Usage(1, 1));
        }
        assertThat(store.recentMessages(c.id(), Long.MAX_VALUE, 3)).extracting(Message::text)
                .containsExactly("a5", "q5", "a4");
        assertThat(store.recentMessages(c.id(), 4, 10)).extracting(Message::sequence).containsExactly(3L, 2L, 1L);
        assertThat(store.recentMessages(c.id(), 1, 10)).isEmpty();
    }

    @Test
    void recentHistoryIsRecentMessagesReducedToWhatContextNeeds() {
        ConversationInfo c = conversation("ws", "alice");
        for (int i = 1; i <= 5; i++) {
            turn(c, "m" + i, "question " + i, "the answer " + i, new Usage(1, 1));
        }
        for (long before : new long[] {Long.MAX_VALUE, 11, 7, 2, 1}) {
            for (int limit : new int[] {1, 3, 10}) {
                assertThat(store.recentHistory(c.id(), before, limit))
                        .as("before %d, limit %d", before, limit)
                        .containsExactlyElementsOf(store.recentMessages(c.id(), before, limit).stream()
                                .map(dev.parley.api.values.HistoryMessage::of).toList());
            }
        }
        assertThat(store.recentHistory(c.id(), Long.MAX_VALUE, 2)).extracting(dev.parley.api.values.HistoryMessage::text)
                .containsExactly("the answer 5", "question 5");
        assertThat(store.recentHistory("c-never-created", Long.MAX_VALUE, 10)).isEmpty();
    }

    @Test
    void messagePagesComeOldestFirstWithTheEnvelope() {
        ConversationInfo c = conversation("ws", "alice");
        for (int i = 1; i <= 5; i++) {
            turn(c, "m" + i, "q" + i, "a" + i, new Usage(1, 1));
        }
        Page<Message> page2 = store.messages(c.id(), PageRequest.of(2, 4));
        assertThat(page2.items()).extracting(Message::text).containsExactly("q3", "a3", "q4", "a4");
        assertThat(page2.totalElements()).isEqualTo(10);
        assertThat(page2.totalPages()).isEqualTo(3);
        assertThat(page2.currentPage()).isEqualTo(2);
        assertThat(store.messages(c.id(), PageRequest.of(3, 4)).items()).hasSize(2);
        assertThat(store.messages(c.id(), PageRequest.of(4, 4)).items()).isEmpty();
    }

    @Test
    void listsShowWhatTheFilterAllowsNewestFirst() {
        ConversationInfo a1 = conversation("ws-a", "alice");
        ConversationInfo b1 = conversation("ws-b", "bob");
        ConversationInfo a2 = conversation("ws-a", "bob");
        ConversationInfo r1 = conversation("ws-b", "repo-1", "carol");

        assertThat(ids(store.list(everything(), PageRequest.first()))).containsExactly(r1.id(), a2.id(), b1.id(), a1.id());
        assertThat(ids(store.list(new ConversationFilter(org, false, Set.of(), "bob", null, null), PageRequest.first())))
                .containsExactly(a2.id(), b1.id());
        assertThat(ids(store.list(new ConversationFilter(org, false, Set.of("ws-a"), "carol", null, null), PageRequest.first())))
                .containsExactly(r1.id(), a2.id(), a1.id());
        assertThat(ids(store.list(new ConversationFilter(org, false, Set.of("ws-a"), "bob", "ws-a", null), PageRequest.first())))
                .containsExactly(a2.id(), a1.id());
        assertThat(ids(store.list(new ConversationFilter(org, false, Set.of(), "bob", "ws-a", null), PageRequest.first())))
                .containsExactly(a2.id());
        assertThat(ids(store.list(new ConversationFilter(org, true, Set.of(), "x", null, "repo-1"), PageRequest.first())))
                .containsExactly(r1.id());
        assertThat(store.list(new ConversationFilter("org-other", true, Set.of(), "x", null, null), PageRequest.first())
                .items()).isEmpty();

        Page<ConversationInfo> page = store.list(everything(), PageRequest.of(2, 3));
        assertThat(ids(page)).containsExactly(a1.id());
        assertThat(page.totalElements()).isEqualTo(4);
        assertThat(page.totalPages()).isEqualTo(2);
    }

    private static List<String> ids(Page<ConversationInfo> page) {
        return page.items().stream().map(ConversationInfo::id).toList();
    }

    @Test
    void aClaimedIdIsInProgressUntilCommittedThenCompletedWithItsReply() {
        ConversationInfo c = conversation("ws", "alice");
        String token = token(claim(c, "m1"));
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.InProgress("fp-m1"));

        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));
        Message stored = store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at, token));

        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(stored, "fp-m1"));
        // The committed claim's own token cannot free it any more: a late release after a commit changes nothing.
        store.releaseTurn(c.id(), "m1", token);
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(stored, "fp-m1"));
        assertThat(store.renewTurn(c.id(), "m1", token, tick(), LEASE)).isFalse();
    }

    @Test
    void aReleasedClaimCanBeClaimedAgainButOnlyItsOwnTokenReleasesIt() {
        ConversationInfo c = conversation("ws", "alice");
        String token = token(claim(c, "m1"));
        store.releaseTurn(c.id(), "m1", "not-" + token); // not this claim: nothing happens
        assertThat(claim(c, "m1")).isInstanceOf(TurnClaim.InProgress.class);
        store.releaseTurn(c.id(), "m1", token);
        assertThat(claim(c, "m1")).isInstanceOf(TurnClaim.Claimed.class);
    }

    @Test
    void aClaimPastItsLeaseIsTakenOverAndTheOldTokenCanNeitherReleaseRenewNorCommit() {
        // Leases run in real time here: a store may measure them by its own clock (the database's).
        ConversationInfo c = conversation("ws", "alice");
        String first = token(store.claimTurn(c.id(), "m1", "fp-m1", Instant.now(), SHORT_LEASE));
        assertThat(claim(c, "m1", Instant.now())).isInstanceOf(TurnClaim.InProgress.class);

        String second = token(awaitClaim(c, "m1"));
        assertThat(second).isNotEqualTo(first);

        store.releaseTurn(c.id(), "m1", first); // the first holder gives up late: the new claim must stay
        assertThat(store.renewTurn(c.id(), "m1", first, Instant.now(), LEASE)).isFalse();
        assertThat(claim(c, "m1", Instant.now())).isInstanceOf(TurnClaim.InProgress.class);
        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));
        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at, first))).isInstanceOf(dev.parley.api.ConversationLockedException.class);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isZero();

        Message stored = store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at, second));
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(stored, "fp-m1"));
    }

    @Test
    void aRenewedClaimOutlivesItsFirstLease() throws InterruptedException {
        ConversationInfo c = conversation("ws", "alice");
        String token = token(store.claimTurn(c.id(), "m1", "fp-m1", Instant.now(), SHORT_LEASE));
        assertThat(store.renewTurn(c.id(), "m1", token, Instant.now(), LEASE)).isTrue();

        Thread.sleep(SHORT_LEASE.toMillis() + 500); // the first lease is over; the renewed one runs
        assertThat(claim(c, "m1", Instant.now())).isInstanceOf(TurnClaim.InProgress.class);
        // Renewed again, briefly: taken over once that lease ends.
        assertThat(store.renewTurn(c.id(), "m1", token, Instant.now(), java.time.Duration.ofMillis(200))).isTrue();
        assertThat(awaitClaim(c, "m1")).isInstanceOf(TurnClaim.Claimed.class);
    }

    @Test
    void leasesAreMeasuredByTheClockTheStoreDocuments() {
        // An engine whose clock runs an hour ahead of the others' claims and locks.
        ConversationInfo c = conversation("ws", "alice");
        token(store.claimTurn(c.id(), "m1", "fp-m1", Instant.now(), LEASE));
        assertThat(store.acquireStreamLock(c.id(), "first", Instant.now(), LEASE)).isTrue();
        Instant anHourAhead = Instant.now().plus(java.time.Duration.ofHours(1));

        TurnClaim claim = store.claimTurn(c.id(), "m1", "fp-m1", anHourAhead, LEASE);
        boolean locked = store.acquireStreamLock(c.id(), "ahead", anHourAhead, LEASE);
        if (leasesUseTheStoresOwnClock()) {
            // The store's clock says both leases still run: the engine's own clock cannot end them.
            assertThat(claim).isInstanceOf(TurnClaim.InProgress.class);
            assertThat(locked).isFalse();
            assertThat(store.streamLock(c.id(), anHourAhead)).hasValueSatisfying(l -> assertThat(l.holder()).isEqualTo("first"));
        } else {
            // The store measures leases by the times it is given.
            assertThat(claim).isInstanceOf(TurnClaim.Claimed.class);
            assertThat(locked).isTrue();
        }
    }

    /**
     * Whether the store measures leases by a clock of its own that every engine shares (the JDBC store: the
     * database server's), rather than by the times it is given. False by default.
     */
    protected boolean leasesUseTheStoresOwnClock() {
        return false;
    }

    /** A lease that runs out while a test waits for it: two seconds. */
    protected static final java.time.Duration SHORT_LEASE = java.time.Duration.ofSeconds(2);

    /** Claims {@code promptId} with {@link #LEASE} until granted, for up to 20 s, in real time. */
    private TurnClaim awaitClaim(ConversationInfo c, String promptId) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (true) {
            TurnClaim claim = claim(c, promptId, Instant.now());
            if (!(claim instanceof TurnClaim.InProgress) || System.nanoTime() > deadline) {
                return claim;
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Test
    void anIdThatIsAlreadyAReplysIdIsInUseAndClaimsNothing() {
        ConversationInfo c = conversation("ws", "alice");
        Message reply = turn(c, "m1", "hello", "hi", new Usage(1, 1));

        assertThat(claim(c, reply.id())).isEqualTo(new TurnClaim.IdInUse());
        assertThat(claim(c, reply.id())).isEqualTo(new TurnClaim.IdInUse());
    }

    @Test
    void aCommitWithoutAClaimOfAnIdClaimedByAnotherTurnIsRefused() {
        ConversationInfo c = conversation("ws", "alice");
        token(claim(c, "m1"));
        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));

        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at)))
                .isInstanceOf(dev.parley.api.ConversationLockedException.class);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void theSameIdInAnotherConversationIsAnotherClaim() {
        ConversationInfo c1 = conversation("ws", "alice");
        ConversationInfo c2 = conversation("ws", "alice");
        assertThat(claim(c1, "m1")).isInstanceOf(TurnClaim.Claimed.class);
        assertThat(claim(c2, "m1")).isInstanceOf(TurnClaim.Claimed.class);
    }

    @Test
    void awkwardTextRoundTripsExactly() {
        ConversationInfo c = conversation("ws", "alice");
        String sql = "'; DROP TABLE parley_message; -- \" \\ % _ ?";
        String astral = "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👍🏽 中文 \u200b\u00e9\u0301 \t\r\n";
        String big = "a".repeat(1 << 20);
        turn(c, "m-sql", sql, astral, new Usage(1, 1));
        turn(c, "m-big", big, "ok", new Usage(1, 1));

        List<Message> all = store.messages(c.id(), PageRequest.first()).items();
        assertThat(all.get(0).text()).isEqualTo(sql);
        assertThat(all.get(1).text()).isEqualTo(astral);
        assertThat(all.get(2).text()).isEqualTo(big);
    }

    @Test
    void auditEventsComeBackInTheOrderTheyWereAppended() {
        ConversationInfo c = conversation("ws", "alice");
        List<AuditEvent> appended = new ArrayList<>();
        for (AuditEvent.Type type : List.of(AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.TURN_FAILED,
                AuditEvent.Type.CONVERSATION_UPDATED, AuditEvent.Type.CONVERSATION_DELETED)) {
            AuditEvent e = new AuditEvent("e-" + UUID.randomUUID(), type, c.id(), org, "ws", "alice", tick(),
                    "code=" + type.ordinal());
            store.append(e);
            appended.add(e);
        }
        assertThat(store.events(c.id())).extracting(AuditEvent::type).first()
                .isEqualTo(AuditEvent.Type.CONVERSATION_CREATED);
        assertThat(store.events(c.id())).hasSize(5).endsWith(appended.toArray(new AuditEvent[0]));
    }

    @Test
    void aStreamLockHasOneHolderUntilReleased() {
        ConversationInfo c = conversation("ws", "alice");
        Instant now = tick();
        java.time.Duration lease = java.time.Duration.ofMinutes(1);

        assertThat(store.acquireStreamLock(c.id(), "h1", now, lease)).isTrue();
        assertThat(store.acquireStreamLock(c.id(), "h2", now, lease)).isFalse();
        assertThat(store.streamLock(c.id(), now)).hasValueSatisfying(l -> {
            assertThat(l.holder()).isEqualTo("h1");
            assertThat(l.cancelRequested()).isFalse();
        });
        store.releaseStreamLock(c.id(), "h2");
        assertThat(store.acquireStreamLock(c.id(), "h2", now, lease)).isFalse();
        store.releaseStreamLock(c.id(), "h1");
        assertThat(store.streamLock(c.id(), now)).isEmpty();
        assertThat(store.acquireStreamLock(c.id(), "h2", now, lease)).isTrue();
    }

    @Test
    void anExpiredStreamLockCanBeTakenOverAndItsHolderCannotRenewIt() {
        // Real time, as for claims.
        ConversationInfo c = conversation("ws", "alice");
        assertThat(store.acquireStreamLock(c.id(), "dead", Instant.now(), java.time.Duration.ofMillis(300))).isTrue();
        assertThat(store.renewStreamLock(c.id(), "dead", Instant.now(), SHORT_LEASE)).isTrue();
        assertThat(store.acquireStreamLock(c.id(), "alive", Instant.now(), LEASE)).isFalse();

        // The renewed lease ends; the lock is then free for another holder.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
        while (store.streamLock(c.id(), Instant.now()).isPresent() && System.nanoTime() < deadline) {
            pause();
        }
        assertThat(store.streamLock(c.id(), Instant.now())).isEmpty();
        assertThat(store.acquireStreamLock(c.id(), "alive", Instant.now(), LEASE)).isTrue();
        assertThat(store.renewStreamLock(c.id(), "dead", Instant.now(), LEASE)).isFalse();
        assertThat(store.streamLock(c.id(), Instant.now()).orElseThrow().holder()).isEqualTo("alive");
    }

    @Test
    void theStreamCountGrowsWithEveryReleasedStreamAndNotWithAYieldedLock() {
        ConversationInfo c = conversation("ws", "alice");
        assertThat(store.streamStatus(c.id(), tick())).isEqualTo(new ConversationStore.StreamStatus(0, java.util.Optional.empty()));
        assertThat(store.acquireStreamLock(c.id(), "h1", Instant.now(), LEASE)).isTrue();
        ConversationStore.StreamStatus held = store.streamStatus(c.id(), Instant.now());
        assertThat(held.streamsEnded()).isZero();
        assertThat(held.lock()).hasValueSatisfying(l -> assertThat(l.holder()).isEqualTo("h1"));

        store.yieldStreamLock(c.id(), "h1"); // given up for a while, before its turn ran: no stream ended
        assertThat(store.streamStatus(c.id(), Instant.now())).isEqualTo(new ConversationStore.StreamStatus(0, java.util.Optional.empty()));
        assertThat(store.acquireStreamLock(c.id(), "h1", Instant.now(), LEASE)).isTrue();
        store.releaseStreamLock(c.id(), "someone-else"); // not the holder: nothing changes
        assertThat(store.streamStatus(c.id(), Instant.now()).streamsEnded()).isZero();
        store.releaseStreamLock(c.id(), "h1");
        assertThat(store.streamStatus(c.id(), Instant.now())).isEqualTo(new ConversationStore.StreamStatus(1, java.util.Optional.empty()));
        store.releaseStreamLock(c.id(), "h1"); // released already
        assertThat(store.streamStatus(c.id(), Instant.now()).streamsEnded()).isEqualTo(1);
        assertThat(store.streamStatus("c-never-created", Instant.now())).isEqualTo(new ConversationStore.StreamStatus(0, java.util.Optional.empty()));
    }

    @Test
    void aConversationReadWithItsStreamsAgreesWithReadingEachAlone() {
        ConversationInfo c = conversation("ws", "alice");
        turn(c, "m1", "hello", "hi", new Usage(7, 2));
        ConversationStore.ConversationState idle = store.findWithStreams(c.id(), Instant.now()).orElseThrow();
        assertThat(idle.conversation()).isEqualTo(store.find(c.id()).orElseThrow());
        assertThat(idle.conversation().tokensIn()).isEqualTo(7);
        assertThat(idle.streams()).isEqualTo(new ConversationStore.StreamStatus(0, java.util.Optional.empty()));

        assertThat(store.acquireStreamLock(c.id(), "h1", Instant.now(), LEASE)).isTrue();
        ConversationStore.ConversationState held = store.findWithStreams(c.id(), Instant.now()).orElseThrow();
        assertThat(held.streams()).isEqualTo(store.streamStatus(c.id(), Instant.now()));
        assertThat(held.streams().lock()).hasValueSatisfying(l -> assertThat(l.holder()).isEqualTo("h1"));
        store.releaseStreamLock(c.id(), "h1");
        assertThat(store.findWithStreams(c.id(), Instant.now()).orElseThrow().streams())
                .isEqualTo(new ConversationStore.StreamStatus(1, java.util.Optional.empty()));

        assertThat(store.findWithStreams("c-never-created", Instant.now())).isEmpty();
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isTrue();
        assertThat(store.findWithStreams(c.id(), Instant.now())).isEmpty();
    }

    @Test
    void aSendsTurnIsNotStoredWhenAStreamHoldsTheConversationOrEndedSinceTheSendBegan() {
        ConversationInfo c = conversation("ws", "alice");
        long before = store.streamStatus(c.id(), Instant.now()).streamsEnded();
        // A stream starts while the send runs...
        assertThat(store.acquireStreamLock(c.id(), "stream", Instant.now(), LEASE)).isTrue();
        TurnRecord whileStreaming = fencedTurn(c, "m1", before);
        assertThatThrownBy(() -> store.commitTurn(whileStreaming)).isInstanceOf(ConversationLockedException.class);
        // ...and ends before the send commits.
        store.releaseStreamLock(c.id(), "stream");
        TurnRecord afterTheStream = fencedTurn(c, "m2", before);
        assertThatThrownBy(() -> store.commitTurn(afterTheStream)).isInstanceOf(ConversationLockedException.class);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isZero();
        // Neither claim was completed: both ids may be sent again.
        assertThat(claim(c, "m1")).isInstanceOf(TurnClaim.InProgress.class);

        // A send that began after the stream ended commits; so does one that never saw a stream.
        long now = store.streamStatus(c.id(), Instant.now()).streamsEnded();
        assertThat(store.commitTurn(fencedTurn(c, "m3", now)).sequence()).isEqualTo(2);
        assertThat(store.commitTurn(fencedTurn(c, "m4", now)).sequence()).isEqualTo(4);
        // A turn without a stream count (a stream's own) is not fenced.
        assertThat(store.acquireStreamLock(c.id(), "stream-2", Instant.now(), LEASE)).isTrue();
        Instant at = tick();
        String token = token(claim(c, "m5", at));
        store.commitTurn(new TurnRecord(c.id(), "m5", userMessage(c, "m5", at), replyMessage(c, "m5", at),
                new Usage(1, 1), true, at, token));
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isEqualTo(6);
    }

    @Test
    void aSendOnADeletedConversationIsNotFoundEvenWhenFenced() {
        ConversationInfo c = conversation("ws", "alice");
        TurnRecord turn = fencedTurn(c, "m1", 0);
        store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c));
        assertThatThrownBy(() -> store.commitTurn(turn)).isInstanceOf(ConversationNotFoundException.class);
    }

    @Test
    void aTurnsEventsAreStoredWithItOrNotAtAll() {
        ConversationInfo c = conversation("ws", "alice");
        AuditEvent kept = event(AuditEvent.Type.POLICY_VIOLATION, c);
        Instant at = tick();
        String token = token(claim(c, "m1", at));
        store.commitTurn(new TurnRecord(c.id(), "m1", userMessage(c, "m1", at), replyMessage(c, "m1", at),
                new Usage(1, 1), true, at, token).withEvents(List.of(kept)));
        assertThat(store.events(c.id())).contains(kept);

        // Refused by its claim (taken over), by the stream fence, and as a deleted conversation's: no event stays.
        AuditEvent lost = event(AuditEvent.Type.POLICY_VIOLATION, c);
        Instant later = tick();
        claim(c, "m2", later);
        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m2", userMessage(c, "m2", later),
                replyMessage(c, "m2", later), new Usage(1, 1), true, later, "not-the-token").withEvents(List.of(lost))))
                .isInstanceOf(ConversationLockedException.class);
        assertThat(store.acquireStreamLock(c.id(), "stream", Instant.now(), LEASE)).isTrue();
        TurnRecord fenced = fencedTurn(c, "m3", store.streamStatus(c.id(), Instant.now()).streamsEnded())
                .withEvents(List.of(lost));
        assertThatThrownBy(() -> store.commitTurn(fenced)).isInstanceOf(ConversationLockedException.class);
        store.releaseStreamLock(c.id(), "stream");
        TurnRecord afterDelete = fencedTurn(c, "m4", store.streamStatus(c.id(), Instant.now()).streamsEnded())
                .withEvents(List.of(lost));
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isTrue();
        assertThatThrownBy(() -> store.commitTurn(afterDelete)).isInstanceOf(ConversationNotFoundException.class);

        assertThat(store.events(c.id())).extracting(AuditEvent::id).doesNotContain(lost.id());
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(AuditEvent.Type.CONVERSATION_CREATED,
                AuditEvent.Type.POLICY_VIOLATION, AuditEvent.Type.CONVERSATION_DELETED);
    }

    /** A claimed turn of a send that saw {@code streamsEnded} ended streams when it began. */
    private TurnRecord fencedTurn(ConversationInfo c, String promptId, long streamsEnded) {
        Instant at = tick();
        String token = token(claim(c, promptId, at));
        return new TurnRecord(c.id(), promptId, userMessage(c, promptId, at), replyMessage(c, promptId, at),
                new Usage(1, 1), true, at, token).withStreamsEnded(streamsEnded);
    }

    private static Message userMessage(ConversationInfo c, String promptId, Instant at) {
        return new Message(promptId, c.id(), 0, Role.USER, "hello", 1, null, null, null, MessageStatus.COMPLETE, at, null);
    }

    private static Message replyMessage(ConversationInfo c, String promptId, Instant at) {
        return new Message("r-" + promptId, c.id(), 0, Role.ASSISTANT, "hi", 1, "m", null, null, MessageStatus.COMPLETE,
                at, new Usage(1, 1));
    }

    @Test
    void aCancelRequestIsSeenOnTheLiveLockOnly() {
        ConversationInfo c = conversation("ws", "alice");
        Instant now = tick();
        assertThat(store.requestStreamCancel(c.id(), "", now)).isFalse();
        store.acquireStreamLock(c.id(), "h1", now, java.time.Duration.ofMinutes(1));

        assertThat(store.requestStreamCancel(c.id(), "", now)).isTrue();

        assertThat(store.streamLock(c.id(), now).orElseThrow().cancelRequested()).isTrue();
        store.releaseStreamLock(c.id(), "h1");
        store.acquireStreamLock(c.id(), "h2", now, java.time.Duration.ofMinutes(1));
        assertThat(store.streamLock(c.id(), now).orElseThrow().cancelRequested()).isFalse();
    }

    @Test
    void aCancelRequestForAnotherHoldersStreamLeavesTheLockAlone() {
        ConversationInfo c = conversation("ws", "alice");
        Instant now = tick();
        store.acquireStreamLock(c.id(), "key-2/holder", now, java.time.Duration.ofMinutes(1));

        assertThat(store.requestStreamCancel(c.id(), "key-1/", now)).isFalse();
        assertThat(store.requestStreamCancel(c.id(), "key-1%", now)).isFalse();
        assertThat(store.streamLock(c.id(), now).orElseThrow().cancelRequested()).isFalse();

        assertThat(store.requestStreamCancel(c.id(), "key-2/", now)).isTrue();
        assertThat(store.streamLock(c.id(), now).orElseThrow().cancelRequested()).isTrue();
    }

    @Test
    void concurrentStreamLocksOfOneConversationLetExactlyOneThrough() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        Instant now = tick();
        List<Boolean> acquired = atOnce(16, i -> store.acquireStreamLock(c.id(), "h" + i, now, java.time.Duration.ofMinutes(1)));
        assertThat(acquired).filteredOn(Boolean::booleanValue).hasSize(1);
    }

    @Test
    void concurrentClaimsOfOneIdLetExactlyOneThrough() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick();
        List<TurnClaim> claims = atOnce(16, i -> claim(c, "same", at));
        assertThat(claims).filteredOn(TurnClaim.Claimed.class::isInstance).hasSize(1);
        assertThat(claims).filteredOn(cl -> !(cl instanceof TurnClaim.Claimed)).allMatch(TurnClaim.InProgress.class::isInstance);
    }

    @Test
    void aClaimOnAMissingConversationIsNotFound() {
        String missing = "c-missing-" + UUID.randomUUID();
        assertThatThrownBy(() -> store.claimTurn(missing, "m1", "fp", tick(), LEASE))
                .isInstanceOf(ConversationNotFoundException.class);
    }

    @Test
    void aStreamLockOnAMissingConversationIsNotFound() {
        String missing = "c-missing-" + UUID.randomUUID();
        assertThatThrownBy(() -> store.acquireStreamLock(missing, "h1", tick(), java.time.Duration.ofMinutes(1)))
                .isInstanceOf(ConversationNotFoundException.class);
        assertThat(store.streamLock(missing, tick())).isEmpty();
    }

    @Test
    void theCommittedReplyIsTheOneReadBackAndReplayed() {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick().plusNanos(123_456_789);
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));
        String token = token(claim(c, "m1", at));

        Message committed = store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at, token));

        assertThat(committed.createdAt()).isEqualTo(at.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
        assertThat(store.messages(c.id(), PageRequest.first()).items()).last().isEqualTo(committed);
        assertThat(store.recentMessages(c.id(), Long.MAX_VALUE, 1)).containsExactly(committed);
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(committed, "fp-m1"));
        assertThat(store.messages(c.id(), PageRequest.first()).items().get(0).createdAt())
                .isEqualTo(at.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    @Test
    void aReplyOutsideTheHistoryComesBackAtTheStoredPrecisionToo() {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick().plusNanos(987_654_321);
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null, MessageStatus.COMPLETE, at,
                new Usage(1, 1));

        Message committed = store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), false, at));

        assertThat(committed.createdAt()).isEqualTo(at.truncatedTo(java.time.temporal.ChronoUnit.MICROS));
    }

    @Test
    void aMessagePageAgreesWithItsTotalWhileTurnsAreBeingStored() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        int turns = 40;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> writing = writer.submit(() -> {
                for (int i = 0; i < turns; i++) {
                    turn(c, "m" + i, "q", "a", new Usage(1, 1));
                }
            });
            while (!writing.isDone()) {
                Page<Message> page = store.messages(c.id(), PageRequest.of(1, PageRequest.MAX_SIZE));
                assertThat(page.items()).as("a page of %d messages in total", page.totalElements())
                        .hasSize((int) page.totalElements());
            }
            writing.get();
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void aConversationPageAgreesWithItsTotalWhileConversationsAreBeingCreated() throws Exception {
        int conversations = 60;
        ExecutorService writer = Executors.newSingleThreadExecutor();
        try {
            Future<?> writing = writer.submit(() -> {
                for (int i = 0; i < conversations; i++) {
                    conversation("ws", "alice");
                }
            });
            while (!writing.isDone()) {
                Page<ConversationInfo> page = store.list(everything(), PageRequest.of(1, PageRequest.MAX_SIZE));
                assertThat(page.items()).as("a page of %d conversations in total", page.totalElements())
                        .hasSize((int) page.totalElements());
            }
            writing.get();
        } finally {
            writer.shutdownNow();
        }
    }

    @Test
    void aSecondConversationWithTheSameIdIsAStoreFailureAndChangesNothing() {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick();
        ConversationInfo again = new ConversationInfo(c.id(), org, "ws-other", null, "mallory", Steering.NONE, "m",
                0, 0, at, at);

        assertThatThrownBy(() -> store.insert(again, event(AuditEvent.Type.CONVERSATION_CREATED, again)))
                .isInstanceOf(StoreFailureException.class);

        assertThat(store.find(c.id())).contains(c);
        assertThat(store.events(c.id())).hasSize(1);
    }

    @Test
    void aTurnReusingAStoredMessageIdIsRefusedAndStoresNothing() {
        ConversationInfo c = conversation("ws", "alice");
        Message first = turn(c, "m1", "q", "a", new Usage(1, 1));
        Instant at = tick();
        // Another prompt id, but its reply reuses the id of the first turn's reply.
        Message user = new Message("m2", c.id(), 0, Role.USER, "x", 1, null, null, null, MessageStatus.COMPLETE, at, null);
        Message reply = new Message(first.id(), c.id(), 0, Role.ASSISTANT, "y", 1, "m", null, null,
                MessageStatus.COMPLETE, at, new Usage(5, 5));
        String token = token(claim(c, "m2", at));

        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m2", user, reply, new Usage(5, 5), true, at, token)))
                .isInstanceOf(ConversationLockedException.class);

        assertThat(store.messages(c.id(), PageRequest.first()).items()).extracting(Message::text).containsExactly("q", "a");
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(1);
    }

    @Test
    void aTurnWithoutAClaimForAnIdAlreadyCompletedIsRefusedAndStoresNothing() {
        ConversationInfo c = conversation("ws", "alice");
        Message first = turn(c, "m1", "q", "a", new Usage(1, 1));
        Instant at = tick();
        Message user = new Message("m1", c.id(), 0, Role.USER, "q again", 1, null, null, null, MessageStatus.COMPLETE,
                at, null);
        Message reply = new Message("r-other", c.id(), 0, Role.ASSISTANT, "b", 1, "m", null, null,
                MessageStatus.COMPLETE, at, new Usage(5, 5));

        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(5, 5), true, at)))
                .isInstanceOf(ConversationLockedException.class);

        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isEqualTo(2);
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Completed(first, "fp-m1"));
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(1);
    }

    @Test
    void conversationsCreatedAtTheSameInstantAreListedByIdDescending() {
        Instant at = tick();
        List<String> ids = new ArrayList<>();
        for (String suffix : List.of("0b", "a1", "07", "ff", "a0")) {
            ConversationInfo c = new ConversationInfo("c-" + UUID.randomUUID() + "-" + suffix, org, "ws", null, "alice",
                    Steering.NONE, null, 0, 0, at, at);
            store.insert(c, event(AuditEvent.Type.CONVERSATION_CREATED, c));
            ids.add(c.id());
        }
        ids.sort(java.util.Comparator.reverseOrder());
        assertThat(ids(store.list(everything(), PageRequest.first()))).containsExactlyElementsOf(ids);
    }

    @Test
    void valuesUpToTheLimitsAreStoredAndLongerOnesAreAStoreFailure() {
        String longestId = "c-" + "x".repeat(dev.parley.api.Limits.MAX_ID_LENGTH - 2);
        Instant at = tick();
        ConversationInfo c = new ConversationInfo(longestId, org, "ws",
                null, "alice", Steering.NONE, "m".repeat(dev.parley.api.Limits.MAX_TAG_LENGTH), 0, 0, at, at);
        store.insert(c, event(AuditEvent.Type.CONVERSATION_CREATED, c));
        assertThat(store.find(longestId)).contains(c);

        ConversationInfo tooLong = new ConversationInfo(longestId + "y", org, "ws", null, "alice", Steering.NONE, null,
                0, 0, at, at);
        assertThatThrownBy(() -> store.insert(tooLong, event(AuditEvent.Type.CONVERSATION_CREATED, tooLong)))
                .isInstanceOf(StoreFailureException.class);
        assertThat(store.find(tooLong.id())).isEmpty();

        String longestTag = "t".repeat(dev.parley.api.Limits.MAX_TAG_LENGTH);
        Message user = new Message("m1", c.id(), 0, Role.USER, "x", 1, null, longestTag, longestTag,
                MessageStatus.COMPLETE, at, null);
        Message reply = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", longestTag + "!", null,
                MessageStatus.COMPLETE, at, new Usage(1, 1));
        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, reply, new Usage(1, 1), true, at)))
                .isInstanceOf(StoreFailureException.class);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isZero();

        Message fits = new Message("r1", c.id(), 0, Role.ASSISTANT, "y", 1, "m", longestTag, longestTag,
                MessageStatus.COMPLETE, at, new Usage(1, 1));
        store.commitTurn(new TurnRecord(c.id(), "m1", user, fits, new Usage(1, 1), true, at));
        assertThat(store.messages(c.id(), PageRequest.first()).items()).extracting(Message::user)
                .containsExactly(longestTag, longestTag);
    }

    /** Runs {@code task} on {@code threads} threads released at the same moment; their results in thread order. */
    protected static <T> List<T> atOnce(int threads, java.util.function.IntFunction<T> task) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                int n = i;
                futures.add(pool.submit(() -> {
                    start.await();
                    return task.apply(n);
                }));
            }
            start.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(30, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentTurnsOnOneConversationAreNumberedWithoutGapsAndTotalExactly() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        int threads = 8;
        int perThread = 25;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        turn(c, thread + "-" + i, "q", "a", new Usage(thread + 1, 1));
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        int total = threads * perThread * 2;
        List<Message> all = new ArrayList<>();
        for (int page = 1; page <= total / PageRequest.MAX_SIZE; page++) {
            all.addAll(store.messages(c.id(), PageRequest.of(page, PageRequest.MAX_SIZE)).items());
        }
        assertThat(all).extracting(Message::sequence)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, total).boxed().toList());
        for (int i = 0; i < all.size(); i += 2) {
            assertThat(all.get(i).role()).isEqualTo(Role.USER);
            assertThat(all.get(i + 1).id()).isEqualTo("r-" + all.get(i).id());
        }
        ConversationInfo info = store.find(c.id()).orElseThrow();
        long expectedIn = 0;
        for (int t = 0; t < threads; t++) {
            expectedIn += (long) (t + 1) * perThread;
        }
        assertThat(info.tokensIn()).isEqualTo(expectedIn);
        assertThat(info.tokensOut()).isEqualTo(threads * perThread);
    }
}
