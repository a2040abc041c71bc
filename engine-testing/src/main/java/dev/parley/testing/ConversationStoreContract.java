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
import dev.parley.api.policy.PolicyAction;
import dev.parley.api.policy.PolicyBlock;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.Violation;
import dev.parley.api.policy.ViolationQuery;
import dev.parley.api.policy.FailMode;
import dev.parley.api.policy.PolicyScope;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.PolicyRegistry;
import dev.parley.api.spi.ViolationLog;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.api.values.TurnClaim;
import dev.parley.api.values.TurnRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
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
 *
 * <p>Governance, as every store must keep it (the tests of violation lists run on stores that are a
 * {@link ViolationLog}, and are skipped on others):
 * <ul>
 *   <li>A {@linkplain TurnRecord#blocked() blocked} turn stores no message, adds its usage to the totals, stores
 *       its events and violations in its own transaction, and settles its id as blocked: with a claim token, the
 *       pending claim that token still holds becomes blocked, keeping its fingerprint (a token that no longer
 *       holds it is a {@link ConversationLockedException} and nothing is stored); without one, the id is recorded
 *       as blocked with the turn's fingerprint, refused ({@link ConversationLockedException}, nothing stored) when
 *       the id was claimed, stored or blocked already. A deleted conversation is a
 *       {@link ConversationNotFoundException}, and a stream-fenced blocked turn is fenced like any other.</li>
 *   <li>From then on every claim of the id is {@link TurnClaim.Blocked} with the rule, phase, fail-closed flag
 *       and fingerprint, whatever time the claim gives; the id is never renewed, released or claimable again.</li>
 *   <li>Every commit, blocked or not, in history or not, stores the turn's violations with the turn, or none of
 *       them when the commit is refused for any reason.</li>
 *   <li>{@link ViolationLog#violations} lists one conversation's or a whole workspace's violations (both the
 *       organization and the workspace must match), newest first with ties by id descending, deleted
 *       conversations' included, with times at microsecond precision and excerpts exactly as given.</li>
 * </ul>
 *
 * <p>A store that is a {@link PolicyRegistry} (the tests of the registry are skipped on others): its version is 0
 * in a new store and grows with every put and every remove of a rule it has (not with the remove of a missing
 * id); a put replaces the rule with its id; specs read back equal to those put, whatever their parameter values
 * hold; concurrent changes each return a distinct version; and the version a store reads with a conversation
 * ({@link ConversationStore.ConversationState#policyVersion()}), when it reads one, is the registry's.
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

    // ---- Governance: blocked turns and policy violations ----

    private static final PolicyBlock SECRET_AT_PRE = new PolicyBlock("secrets", PolicyPhase.PRE, false);
    private static final PolicyBlock JUDGE_FAILED_CLOSED = new PolicyBlock("judge.v2", PolicyPhase.DURING, true);

    /** The store as a violation log; the test is skipped on a store that is none. */
    protected ViolationLog violationLog() {
        Assumptions.assumeTrue(store instanceof ViolationLog, "the store keeps no policy violations");
        return (ViolationLog) store;
    }

    /** A violation of turn {@code promptId} of {@code c}, found at {@code at} by {@code rule}. */
    protected static Violation violation(ConversationInfo c, String promptId, Instant at, String id, String rule) {
        return new Violation(id, c.id(), c.organizationId(), c.workspaceId(), promptId, rule, "SECRET",
                PolicyAction.BLOCK, PolicyPhase.PRE, at, "key [SECRET] here");
    }

    /** A violation with a fresh id. */
    protected static Violation violation(ConversationInfo c, String promptId, Instant at) {
        return violation(c, promptId, at, "v-" + UUID.randomUUID(), "secrets");
    }

    /** The ids of one conversation's violations on the first page of 100, newest first. */
    private List<String> violationIds(ConversationInfo c) {
        return violationLog().violations(ViolationQuery.conversation(c.organizationId(), c.workspaceId(), c.id()),
                PageRequest.of(1, PageRequest.MAX_SIZE)).items().stream().map(Violation::id).toList();
    }

    /** The ids of a workspace's violations on the first page of 100, newest first. */
    private List<String> workspaceViolationIds(String workspace) {
        return violationLog().violations(ViolationQuery.workspace(org, workspace),
                PageRequest.of(1, PageRequest.MAX_SIZE)).items().stream().map(Violation::id).toList();
    }

    /** An ordinary turn in history, claimed, with these violations. */
    private TurnRecord turnWith(ConversationInfo c, String promptId, List<Violation> violations) {
        Instant at = tick();
        String token = token(claim(c, promptId, at));
        return new TurnRecord(c.id(), promptId, userMessage(c, promptId, at), replyMessage(c, promptId, at),
                new Usage(1, 1), true, at, token).withViolations(violations);
    }

    @Test
    void aBlockedTurnStoresNoMessageAddsItsUsageAndSettlesItsClaimForGood() {
        ConversationInfo c = conversation("ws", "alice");
        turn(c, "m0", "hello", "hi", new Usage(10, 2));
        List<Message> messagesBefore = store.messages(c.id(), PageRequest.first()).items();
        var historyBefore = store.recentHistory(c.id(), Long.MAX_VALUE, 10);
        Instant at = tick();
        String token = token(claim(c, "m1", at));
        Violation found = violation(c, "m1", at);
        AuditEvent blocked = event(AuditEvent.Type.PROMPT_BLOCKED, c);

        store.commitTurn(TurnRecord.blocked(c.id(), "m1", new Usage(5, 0), at, token, SECRET_AT_PRE,
                List.of(found), List.of(blocked)));

        assertThat(store.messages(c.id(), PageRequest.first()).items()).isEqualTo(messagesBefore);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isEqualTo(2);
        assertThat(store.recentHistory(c.id(), Long.MAX_VALUE, 10)).isEqualTo(historyBefore);
        ConversationInfo after = store.find(c.id()).orElseThrow();
        assertThat(after.tokensIn()).isEqualTo(15);
        assertThat(after.tokensOut()).isEqualTo(2);
        assertThat(store.events(c.id())).contains(blocked);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).containsExactly(found.id());
        }

        // A replay of the id is refused the same way, with the claim's fingerprint: now, later, and long after
        // any lease, and neither its old token nor anyone else can free or renew it.
        TurnClaim.Blocked replay = new TurnClaim.Blocked(SECRET_AT_PRE, "fp-m1");
        assertThat(claim(c, "m1")).isEqualTo(replay);
        assertThat(claim(c, "m1", Instant.now())).isEqualTo(replay);
        assertThat(claim(c, "m1", tick().plus(LEASE.multipliedBy(1000)))).isEqualTo(replay);
        assertThat(store.renewTurn(c.id(), "m1", token, tick(), LEASE)).isFalse();
        store.releaseTurn(c.id(), "m1", token);
        assertThat(claim(c, "m1", tick().plus(LEASE.multipliedBy(1000)))).isEqualTo(replay);
        assertThat(store.claimTurn(c.id(), "m1", "fp-other", tick(), LEASE))
                .isEqualTo(replay);

        // Its token settled nothing more: a second commit under it is refused and stores nothing.
        Instant later = tick();
        assertThatThrownBy(() -> store.commitTurn(TurnRecord.blocked(c.id(), "m1", new Usage(5, 0), later, token,
                SECRET_AT_PRE, List.of(violation(c, "m1", later)), List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c)))))
                .isInstanceOf(ConversationLockedException.class);
        Message user = userMessage(c, "m1", later);
        assertThatThrownBy(() -> store.commitTurn(new TurnRecord(c.id(), "m1", user, replyMessage(c, "m1", later),
                new Usage(1, 1), true, later, token))).isInstanceOf(ConversationLockedException.class);
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(15);
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isEqualTo(2);
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.PROMPT_BLOCKED);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).containsExactly(found.id());
        }
    }

    @Test
    void aBlockedTurnWithoutAClaimSettlesItsIdWithItsOwnFingerprint() {
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick();
        Violation found = violation(c, "m1", at);
        store.commitTurn(TurnRecord.blocked(c.id(), "m1", new Usage(3, 4), at, null, JUDGE_FAILED_CLOSED,
                List.of(found), List.of(event(AuditEvent.Type.REPLY_BLOCKED, c))).withFingerprint("fp-sent"));
        store.commitTurn(TurnRecord.blocked(c.id(), "m2", new Usage(1, 1), tick(), null, SECRET_AT_PRE,
                List.of(), List.of()));

        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.Blocked(JUDGE_FAILED_CLOSED, "fp-sent"));
        assertThat(claim(c, "m2")).isEqualTo(new TurnClaim.Blocked(SECRET_AT_PRE, ""));
        assertThat(claim(c, "m2", tick().plus(LEASE.multipliedBy(1000))))
                .isEqualTo(new TurnClaim.Blocked(SECRET_AT_PRE, ""));
        assertThat(store.messages(c.id(), PageRequest.first()).totalElements()).isZero();
        ConversationInfo after = store.find(c.id()).orElseThrow();
        assertThat(after.tokensIn()).isEqualTo(4);
        assertThat(after.tokensOut()).isEqualTo(5);
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.REPLY_BLOCKED);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).containsExactly(found.id());
        }
    }

    @Test
    void aBlockedTurnWithoutAClaimOfAnIdThatHasOneIsRefusedAndStoresNothing() {
        ConversationInfo c = conversation("ws", "alice");
        turn(c, "m-done", "q", "a", new Usage(1, 1));
        token(claim(c, "m-running"));
        store.commitTurn(TurnRecord.blocked(c.id(), "m-blocked", new Usage(1, 1), tick(), null, SECRET_AT_PRE,
                List.of(), List.of()));
        ConversationInfo before = store.find(c.id()).orElseThrow();
        List<AuditEvent> eventsBefore = store.events(c.id());

        for (String id : List.of("m-done", "m-running", "m-blocked")) {
            Instant at = tick();
            TurnRecord again = TurnRecord.blocked(c.id(), id, new Usage(100, 100), at, null, JUDGE_FAILED_CLOSED,
                    List.of(violation(c, id, at)), List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c)))
                    .withFingerprint("fp-again");
            assertThatThrownBy(() -> store.commitTurn(again)).as(id).isInstanceOf(ConversationLockedException.class);
        }

        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(before.tokensIn());
        assertThat(store.events(c.id())).isEqualTo(eventsBefore);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).isEmpty();
        }
        assertThat(claim(c, "m-done")).isInstanceOf(TurnClaim.Completed.class);
        assertThat(claim(c, "m-running")).isEqualTo(new TurnClaim.InProgress("fp-m-running"));
        assertThat(claim(c, "m-blocked")).isEqualTo(new TurnClaim.Blocked(SECRET_AT_PRE, ""));
    }

    @Test
    void aBlockedTurnRefusedByItsClaimItsStreamFenceOrADeleteStoresNothing() {
        ConversationInfo c = conversation("ws", "alice");
        // Its claim is no longer its own.
        Instant at = tick();
        token(claim(c, "m1", at));
        assertThatThrownBy(() -> store.commitTurn(TurnRecord.blocked(c.id(), "m1", new Usage(9, 9), at,
                "not-the-token", SECRET_AT_PRE, List.of(violation(c, "m1", at)),
                List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c))))).isInstanceOf(ConversationLockedException.class);
        assertThat(claim(c, "m1")).isEqualTo(new TurnClaim.InProgress("fp-m1"));

        // A stream holds the conversation, then ended since the send began.
        long ended = store.streamStatus(c.id(), Instant.now()).streamsEnded();
        assertThat(store.acquireStreamLock(c.id(), "stream", Instant.now(), LEASE)).isTrue();
        TurnRecord whileStreaming = blockedClaimed(c, "m2").withStreamsEnded(ended);
        assertThatThrownBy(() -> store.commitTurn(whileStreaming)).isInstanceOf(ConversationLockedException.class);
        store.releaseStreamLock(c.id(), "stream");
        TurnRecord afterTheStream = blockedClaimed(c, "m3").withStreamsEnded(ended);
        assertThatThrownBy(() -> store.commitTurn(afterTheStream)).isInstanceOf(ConversationLockedException.class);
        // Not settled: still the running turn's.
        assertThat(claim(c, "m2")).isEqualTo(new TurnClaim.InProgress("fp-m2"));

        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isZero();
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).isEmpty();
        }

        // A send that began after the stream ended is blocked and stored.
        TurnRecord fresh = blockedClaimed(c, "m4").withStreamsEnded(store.streamStatus(c.id(), Instant.now())
                .streamsEnded());
        store.commitTurn(fresh);
        assertThat(claim(c, "m4")).isEqualTo(new TurnClaim.Blocked(SECRET_AT_PRE, "fp-m4"));
        assertThat(store.find(c.id()).orElseThrow().tokensIn()).isEqualTo(2);

        // Deleted: not found, with a claim or without, and nothing stored.
        TurnRecord claimed = blockedClaimed(c, "m5");
        Instant late = tick();
        TurnRecord unclaimed = TurnRecord.blocked(c.id(), "m6", new Usage(2, 1), late, null, SECRET_AT_PRE,
                List.of(violation(c, "m6", late)), List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c)));
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isTrue();
        assertThatThrownBy(() -> store.commitTurn(claimed)).isInstanceOf(ConversationNotFoundException.class);
        assertThatThrownBy(() -> store.commitTurn(unclaimed)).isInstanceOf(ConversationNotFoundException.class);
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.PROMPT_BLOCKED,
                AuditEvent.Type.CONVERSATION_DELETED);
        if (store instanceof ViolationLog) {
            assertThat(violationIds(c)).containsExactly(fresh.violations().get(0).id());
        }
    }

    /** A turn of {@code promptId}, claimed now, blocked at PRE by {@code secrets}, with a violation and an event. */
    private TurnRecord blockedClaimed(ConversationInfo c, String promptId) {
        Instant at = tick();
        String token = token(claim(c, promptId, at));
        return TurnRecord.blocked(c.id(), promptId, new Usage(2, 0), at, token, SECRET_AT_PRE,
                List.of(violation(c, promptId, at)), List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c)));
    }

    @Test
    void aTurnsViolationsAreStoredWithItOrNotAtAll() {
        violationLog();
        ConversationInfo c = conversation("ws", "alice");
        // In history, and outside it.
        Violation inHistory = violation(c, "m1", tick());
        store.commitTurn(turnWith(c, "m1", List.of(inHistory)));
        Instant at = tick();
        Violation outside = violation(c, "m2", at);
        store.commitTurn(new TurnRecord(c.id(), "m2", userMessage(c, "m2", at), replyMessage(c, "m2", at),
                new Usage(1, 1), false, at).withViolations(List.of(outside)));
        assertThat(violationIds(c)).containsExactlyInAnyOrder(inHistory.id(), outside.id());

        // Refused by its claim (taken over), by a reused message id, by the stream fence, and as a deleted
        // conversation's: none of their violations stays.
        Instant later = tick();
        claim(c, "m3", later);
        TurnRecord takenOver = new TurnRecord(c.id(), "m3", userMessage(c, "m3", later),
                replyMessage(c, "m3", later), new Usage(1, 1), true, later, "not-the-token")
                .withViolations(List.of(violation(c, "m3", later)));
        assertThatThrownBy(() -> store.commitTurn(takenOver)).isInstanceOf(ConversationLockedException.class);
        Instant reuse = tick();
        TurnRecord reusing = new TurnRecord(c.id(), "m1", userMessage(c, "m1", reuse), replyMessage(c, "m1", reuse),
                new Usage(1, 1), true, reuse).withViolations(List.of(violation(c, "m1", reuse)));
        assertThatThrownBy(() -> store.commitTurn(reusing)).isInstanceOf(ConversationLockedException.class);
        assertThat(store.acquireStreamLock(c.id(), "stream", Instant.now(), LEASE)).isTrue();
        TurnRecord fenced = fencedTurn(c, "m4", store.streamStatus(c.id(), Instant.now()).streamsEnded());
        TurnRecord fencedWith = fenced.withViolations(List.of(violation(c, "m4", fenced.at())));
        assertThatThrownBy(() -> store.commitTurn(fencedWith)).isInstanceOf(ConversationLockedException.class);
        store.releaseStreamLock(c.id(), "stream");
        TurnRecord beforeDelete = turnWith(c, "m5", List.of(violation(c, "m5", tick())));
        assertThat(store.delete(c.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, c))).isTrue();
        assertThatThrownBy(() -> store.commitTurn(beforeDelete)).isInstanceOf(ConversationNotFoundException.class);

        // The stored ones are compliance records: still listed after the delete.
        assertThat(violationIds(c)).containsExactlyInAnyOrder(inHistory.id(), outside.id());
        assertThat(workspaceViolationIds("ws")).containsExactlyInAnyOrder(inHistory.id(), outside.id());
    }

    @Test
    void violationPagesComeNewestFirstWithTiesByIdAndTheEnvelope() {
        violationLog();
        ConversationInfo a = conversation("ws", "alice");
        ConversationInfo b = conversation("ws", "bob");
        ConversationInfo elsewhere = conversation("ws-other", "alice");
        Instant early = tick();
        Instant tie = tick();
        Instant late = tick();
        // Ids that differ only in lowercase hex after a common prefix: the same order in every collation.
        String prefix = "v-" + UUID.randomUUID() + "-";
        List<Violation> ofA = List.of(violation(a, "m1", tie, prefix + "0b", "secrets"),
                violation(a, "m1", tie, prefix + "a1", "pii.email"),
                violation(a, "m1", early, prefix + "ff", "secrets"));
        List<Violation> ofB = List.of(violation(b, "m2", tie, prefix + "07", "deny"),
                violation(b, "m2", late, prefix + "00", "deny"),
                violation(b, "m2", tie, prefix + "a0", "deny"));
        store.commitTurn(turnWith(a, "m1", ofA));
        store.commitTurn(turnWith(b, "m2", ofB));
        store.commitTurn(turnWith(elsewhere, "m3", List.of(violation(elsewhere, "m3", late, prefix + "fe", "x"))));

        assertThat(violationIds(a)).containsExactly(prefix + "a1", prefix + "0b", prefix + "ff");
        assertThat(violationIds(b)).containsExactly(prefix + "00", prefix + "a0", prefix + "07");
        List<String> workspace = List.of(prefix + "00", prefix + "a1", prefix + "a0", prefix + "0b", prefix + "07",
                prefix + "ff");
        assertThat(workspaceViolationIds("ws")).containsExactlyElementsOf(workspace);
        assertThat(workspaceViolationIds("ws-other")).containsExactly(prefix + "fe");

        ViolationQuery ws = ViolationQuery.workspace(org, "ws");
        Page<Violation> second = violationLog().violations(ws, PageRequest.of(2, 4));
        assertThat(second.items()).extracting(Violation::id).containsExactlyElementsOf(workspace.subList(4, 6));
        assertThat(second.totalElements()).isEqualTo(6);
        assertThat(second.totalPages()).isEqualTo(2);
        assertThat(second.currentPage()).isEqualTo(2);
        Page<Violation> middle = violationLog().violations(ws, PageRequest.of(2, 2));
        assertThat(middle.items()).extracting(Violation::id).containsExactlyElementsOf(workspace.subList(2, 4));
        assertThat(middle.totalPages()).isEqualTo(3);
        Page<Violation> beyond = violationLog().violations(ws, PageRequest.of(3, 4));
        assertThat(beyond.items()).isEmpty();
        assertThat(beyond.totalElements()).isEqualTo(6);
        Page<Violation> lastOfA = violationLog().violations(
                ViolationQuery.conversation(org, "ws", a.id()), PageRequest.of(2, 2));
        assertThat(lastOfA.items()).extracting(Violation::id).containsExactly(prefix + "ff");
        assertThat(lastOfA.totalElements()).isEqualTo(3);
        assertThat(lastOfA.totalPages()).isEqualTo(2);

        // Nothing of another workspace or organization, even when the conversation id is given.
        assertThat(violationLog().violations(ViolationQuery.conversation(org, "ws", elsewhere.id()),
                PageRequest.first()).items()).isEmpty();
        assertThat(violationLog().violations(ViolationQuery.conversation(org, "ws-other", a.id()),
                PageRequest.first()).totalElements()).isZero();
        assertThat(violationLog().violations(ViolationQuery.conversation("org-other-" + UUID.randomUUID(), "ws",
                a.id()), PageRequest.first()).items()).isEmpty();
        Page<Violation> otherOrg = violationLog().violations(
                ViolationQuery.workspace("org-other-" + UUID.randomUUID(), "ws"), PageRequest.first());
        assertThat(otherOrg.items()).isEmpty();
        assertThat(otherOrg.totalElements()).isZero();
        assertThat(violationLog().violations(ViolationQuery.conversation(org, "ws", "c-never-" + UUID.randomUUID()),
                PageRequest.first()).totalElements()).isZero();

        // A deleted conversation's violations are still listed, in the conversation and in the workspace.
        assertThat(store.delete(a.id(), tick(), event(AuditEvent.Type.CONVERSATION_DELETED, a))).isTrue();
        assertThat(violationIds(a)).containsExactly(prefix + "a1", prefix + "0b", prefix + "ff");
        assertThat(workspaceViolationIds("ws")).containsExactlyElementsOf(workspace);
    }

    @Test
    void violationsRoundTripExactly() {
        violationLog();
        ConversationInfo c = conversation("ws", "alice");
        Instant at = tick().plusNanos(123_456_789);
        List<String> excerpts = List.of(
                "'; DROP TABLE parley_violation; -- \" \\ % _ ? [SECRET]",
                "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👍🏽 中文 \u200b\u00e9\u0301 \t\r\n [PII_EMAIL]",
                "😀".repeat(Violation.MAX_EXCERPT_LENGTH / 2),
                "x".repeat(Violation.MAX_EXCERPT_LENGTH),
                "");
        List<Violation> all = new ArrayList<>();
        PolicyAction[] actions = PolicyAction.values();
        PolicyPhase[] phases = PolicyPhase.values();
        for (int i = 0; i < excerpts.size(); i++) {
            all.add(new Violation("v-" + UUID.randomUUID(), c.id(), org, "ws", "m1", "rule-" + i + ".v_2",
                    "CATEGORY_" + i, actions[i % actions.length], phases[i % phases.length], at.plusSeconds(i),
                    excerpts.get(i)));
        }
        store.commitTurn(turnWith(c, "m1", all));

        List<Violation> read = new ArrayList<>(violationLog().violations(
                ViolationQuery.conversation(org, "ws", c.id()), PageRequest.first()).items());
        java.util.Collections.reverse(read);
        List<Violation> expected = all.stream().map(v -> new Violation(v.id(), v.conversationId(),
                v.organizationId(), v.workspaceId(), v.messageId(), v.ruleId(), v.category(), v.action(), v.phase(),
                v.at().truncatedTo(java.time.temporal.ChronoUnit.MICROS), v.excerpt())).toList();
        assertThat(read).containsExactlyElementsOf(expected);
        assertThat(read).extracting(Violation::excerpt).containsExactlyElementsOf(excerpts);
        List<Violation> newestFirst = new ArrayList<>(expected);
        java.util.Collections.reverse(newestFirst);
        assertThat(violationLog().violations(ViolationQuery.workspace(org, "ws"), PageRequest.first()).items())
                .containsExactlyElementsOf(newestFirst);
    }

    @Test
    void concurrentBlockedAndOrdinaryTurnsOnOneConversationTotalExactly() throws Exception {
        ConversationInfo c = conversation("ws", "alice");
        int threads = 4;
        int perThread = 12;
        List<List<String>> blockedIds = atOnce(threads, thread -> {
            List<String> blocked = new ArrayList<>();
            for (int i = 0; i < perThread; i++) {
                String id = thread + "-" + i;
                Instant at = tick();
                String token = token(claim(c, id, at));
                List<Violation> found = List.of(violation(c, id, at));
                if (i % 3 == 0) {
                    store.commitTurn(TurnRecord.blocked(c.id(), id, new Usage(thread + 1, 0), at, token,
                            SECRET_AT_PRE, found, List.of(event(AuditEvent.Type.PROMPT_BLOCKED, c))));
                    blocked.add(id);
                } else {
                    store.commitTurn(new TurnRecord(c.id(), id, userMessage(c, id, at), replyMessage(c, id, at),
                            new Usage(thread + 1, 1), true, at, token).withViolations(found));
                }
            }
            return blocked;
        });
        int blockedPerThread = (perThread + 2) / 3;
        int ordinaryPerThread = perThread - blockedPerThread;
        ConversationInfo info = store.find(c.id()).orElseThrow();
        long expectedIn = 0;
        for (int t = 0; t < threads; t++) {
            expectedIn += (long) (t + 1) * perThread;
        }
        assertThat(info.tokensIn()).isEqualTo(expectedIn);
        assertThat(info.tokensOut()).isEqualTo((long) threads * ordinaryPerThread);
        Page<Message> messages = store.messages(c.id(), PageRequest.of(1, PageRequest.MAX_SIZE));
        assertThat(messages.totalElements()).isEqualTo(threads * ordinaryPerThread * 2L);
        assertThat(messages.items()).extracting(Message::sequence).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, threads * ordinaryPerThread * 2L).boxed().toList());
        for (List<String> ids : blockedIds) {
            for (String id : ids) {
                assertThat(claim(c, id)).isEqualTo(new TurnClaim.Blocked(SECRET_AT_PRE, "fp-" + id));
            }
        }
        assertThat(store.events(c.id())).filteredOn(e -> e.type() == AuditEvent.Type.PROMPT_BLOCKED)
                .hasSize(threads * blockedPerThread);
        if (store instanceof ViolationLog) {
            assertThat(violationLog().violations(ViolationQuery.conversation(org, "ws", c.id()), PageRequest.first())
                    .totalElements()).isEqualTo((long) threads * perThread);
        }
    }

    // --- the policy registry ---

    private PolicyRegistry registry() {
        Assumptions.assumeTrue(store instanceof PolicyRegistry, "the store keeps no policy rules");
        return (PolicyRegistry) store;
    }

    private static PolicySpec.Builder rule(String id) {
        return PolicySpec.builder(id, "deny-list").parameter("words", "alpha,beta").action("block").phases("pre");
    }

    @Test
    void theRegistrysVersionStartsAtZeroAndGrowsWithEachPutAndEachRemoveOfARuleItHas() {
        PolicyRegistry registry = registry();
        assertThat(registry.policyVersion()).isZero();
        assertThat(registry.policySpecs()).isEmpty();
        assertThat(registry.removePolicy("missing")).isFalse();
        assertThat(registry.policyVersion()).as("removing a missing id changes nothing").isZero();

        assertThat(registry.putPolicy(rule("a").build())).isEqualTo(1);
        assertThat(registry.putPolicy(rule("b").build())).isEqualTo(2);
        assertThat(registry.putPolicy(rule("a").build())).as("the same spec again is still a change").isEqualTo(3);
        assertThat(registry.policyVersion()).isEqualTo(3);
        assertThat(registry.removePolicy("a")).isTrue();
        assertThat(registry.policyVersion()).isEqualTo(4);
        assertThat(registry.removePolicy("a")).isFalse();
        assertThat(registry.policyVersion()).isEqualTo(4);
        assertThat(registry.policySpecs()).containsExactly(rule("b").build());
        assertThat(registry.removePolicy("b")).isTrue();
        assertThat(registry.policySpecs()).isEmpty();
        assertThat(registry.policyVersion()).isEqualTo(5);
    }

    @Test
    void aPutReplacesTheRuleWithItsIdAndTheRulesAreListedById() {
        PolicyRegistry registry = registry();
        PolicySpec first = rule("keys").build();
        registry.putPolicy(rule("alpha").build());
        registry.putPolicy(first);
        PolicySpec changed = first.toBuilder().action("log").phases("post", "during").failMode(FailMode.CLOSED)
                .parameter("words", "gamma").parameter("caseSensitive", "true").enabled(false)
                .scope(PolicyScope.workspace("org-1", "ws-1")).timeBudget(java.time.Duration.ofMillis(250)).build();
        registry.putPolicy(changed);

        assertThat(registry.policySpecs()).containsExactly(rule("alpha").build(), changed);
        PolicySpec read = registry.policySpecs().get(1);
        assertThat(read.parameters().keySet()).as("parameters in the order they were set")
                .containsExactly("words", "caseSensitive");
        assertThat(read.enabled()).isFalse();
    }

    @Test
    void specsReadBackExactlyAsTheyWerePut() {
        PolicyRegistry registry = registry();
        String longest = "x".repeat(PolicySpec.MAX_PARAMETER_LENGTH - 4) + "\u00e9\u6f22\ud83d\ude00";
        PolicySpec.Builder awkward = PolicySpec.builder("awkward.rule_1-x", "regex")
                .parameter("commas", "a,b,,c,")
                .parameter("newlines", "line one\nline two\r\n\tend\n")
                .parameter("quotes", "it's \"quoted\" `and` \\ back\\slashed; DROP TABLE x; --")
                .parameter("unicode", "\u00e9t\u00e9 \u6f22\u5b57 \ud83d\ude00 \u0645\u0631\u062d\u0628\u0627")
                .parameter("separators", "3:abc7:x:y 12:1:")
                .parameter("empty", "")
                .parameter("digits9", "12")
                .parameter("longest", longest)
                .action("redact").phases("pre", "during", "post").failMode("closed")
                .timeBudget(java.time.Duration.ofNanos(1_234_567_891))
                .scope(PolicyScope.repository("org-1", "repo-1")).enabled(true);
        List<PolicySpec> put = new ArrayList<>();
        put.add(awkward.build());
        put.add(PolicySpec.builder("bare", "deny-list").build()); // no parameters, every default
        put.add(PolicySpec.builder("in-org", "deny-list").parameter("words", " leading and trailing ")
                .scope(PolicyScope.organization("org-2")).phases(PolicyPhase.DURING).build());
        PolicySpec.Builder many = PolicySpec.builder("many", "deny-list");
        for (int i = PolicySpec.MAX_PARAMETERS; i > 0; i--) {
            many.parameter("p" + i, "value " + i + ":" + i);
        }
        put.add(many.build());
        put.forEach(registry::putPolicy);

        List<PolicySpec> read = registry.policySpecs();
        assertThat(read).containsExactlyInAnyOrderElementsOf(put);
        for (PolicySpec spec : read) {
            PolicySpec original = put.stream().filter(p -> p.id().equals(spec.id())).findFirst().orElseThrow();
            assertThat(List.copyOf(spec.parameters().entrySet()))
                    .containsExactlyElementsOf(List.copyOf(original.parameters().entrySet()));
            assertThat(spec.timeBudget()).isEqualTo(original.timeBudget());
        }
        assertThat(read.stream().filter(p -> p.id().equals("awkward.rule_1-x")).findFirst().orElseThrow()
                .parameters().get("longest")).hasSize(PolicySpec.MAX_PARAMETER_LENGTH).isEqualTo(longest);
    }

    @Test
    void concurrentPutsAndRemovesEachGetADistinctVersionAndTheRulesEndRight() throws Exception {
        PolicyRegistry registry = registry();
        int threads = 4;
        int perThread = 15;
        List<List<Long>> versions = atOnce(threads, thread -> {
            List<Long> mine = new ArrayList<>();
            for (int i = 0; i < perThread; i++) {
                // Every thread changes the shared rule and one of its own, and removes its own every third time
                // (not the last: each thread's own rule is there at the end).
                mine.add(registry.putPolicy(rule("shared").parameter("words", "t" + thread + "-" + i).build()));
                mine.add(registry.putPolicy(rule("own-" + thread).parameter("words", "w" + i).build()));
                if (i % 3 == 1) {
                    assertThat(registry.removePolicy("own-" + thread)).isTrue();
                    mine.add(-1L); // a remove returns no version; counted below
                }
            }
            return mine;
        });
        List<Long> all = versions.stream().flatMap(List::stream).filter(v -> v > 0).toList();
        long removes = versions.stream().flatMap(List::stream).filter(v -> v < 0).count();
        assertThat(all).doesNotHaveDuplicates().allSatisfy(v -> assertThat(v).isPositive());
        for (List<Long> mine : versions) {
            List<Long> puts = mine.stream().filter(v -> v > 0).toList();
            assertThat(puts).as("one thread's versions grow").isSorted();
        }
        assertThat(registry.policyVersion()).as("one version per change").isEqualTo(all.size() + removes);
        assertThat(all).allSatisfy(v -> assertThat(v).isLessThanOrEqualTo(registry.policyVersion()));
        List<PolicySpec> rules = registry.policySpecs();
        assertThat(rules).extracting(PolicySpec::id).containsExactlyInAnyOrder("own-0", "own-1", "own-2", "own-3",
                "shared");
        for (int t = 0; t < threads; t++) {
            String own = "own-" + t;
            assertThat(rules).filteredOn(r -> r.id().equals(own)).singleElement()
                    .isEqualTo(rule(own).parameter("words", "w" + (perThread - 1)).build());
        }
        assertThat(rules.stream().filter(r -> r.id().equals("shared")).findFirst().orElseThrow()
                .parameters().get("words")).endsWith("-" + (perThread - 1));
    }

    @Test
    void theVersionReadWithAConversationIsTheRegistrys() {
        PolicyRegistry registry = registry();
        ConversationInfo c = conversation("ws", "alice");
        java.util.OptionalLong before = store.findWithStreams(c.id(), tick()).orElseThrow().policyVersion();
        before.ifPresent(v -> assertThat(v).isEqualTo(registry.policyVersion()).isZero());

        long put = registry.putPolicy(rule("keys").build());
        java.util.OptionalLong after = store.findWithStreams(c.id(), tick()).orElseThrow().policyVersion();
        after.ifPresent(v -> assertThat(v).isEqualTo(put).isEqualTo(registry.policyVersion()));
        registry.removePolicy("keys");
        store.findWithStreams(c.id(), tick()).orElseThrow().policyVersion()
                .ifPresent(v -> assertThat(v).isEqualTo(put + 1).isEqualTo(registry.policyVersion()));
        assertThat(before.isPresent()).as("a store reads the version with the conversation always or never")
                .isEqualTo(after.isPresent());
    }
}
