package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.policy.FailMode;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyPhase;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicyScope;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.policy.Violation;
import dev.parley.api.spi.Policy;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Governance in the pipeline: each action at each phase, on send and on stream, with a model that proves whether it
 * was called, a listener that proves what the caller received, and the store that proves what was kept.
 */
public class GovernanceTest {
    static final String SECRET = "sk-live-" + "Q7vN2xLm9RtY4bWc8KdF3hJs";
    static final String REPLY = "Your key is " + SECRET + " so keep it safe.";
    static final String REDACTED_REPLY = "Your key is [REDACTED:SECRET] so keep it safe.";

    /** Finds {@link #SECRET}-shaped keys: whole, never a part. */
    public static final class KeyPolicy implements Policy {
        private static final Pattern KEY = Pattern.compile("sk-live-[A-Za-z0-9]{24}");
        final AtomicInteger checks = new AtomicInteger();

        @Override
        public String id() {
            return "keys";
        }

        @Override
        public List<Finding> check(PolicyInput input) {
            checks.incrementAndGet();
            List<Finding> out = new ArrayList<>();
            Matcher m = KEY.matcher(input.text());
            while (m.find()) {
                out.add(new Finding(m.start(), m.end(), Finding.SECRET, id(), "live API key"));
            }
            return out;
        }

        @Override
        public int maxSpan() {
            return 32;
        }
    }

    private final KeyPolicy keys = new KeyPolicy();
    private final List<Violation> alerts = new CopyOnWriteArrayList<>();
    private final dev.parley.api.spi.ConversationStore store = newStore();

    /** The store the engines of a test use; a subclass runs the tests on another. */
    protected dev.parley.api.spi.ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /**
     * Every text the store keeps of a conversation (messages, event details, violation excerpts), read as directly
     * as the store allows: a subclass on a database reads the rows.
     */
    protected List<String> storedTexts(dev.parley.api.spi.ConversationStore kept, String conversationId) {
        List<String> texts = new ArrayList<>();
        kept.messages(conversationId, PageRequest.of(1, 100)).items().forEach(m -> texts.add(m.text()));
        kept.events(conversationId).forEach(e -> texts.add(e.detail()));
        StoredViolations.violations(kept, conversationId).forEach(v -> texts.add(v.excerpt()));
        return texts;
    }
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversation(dev.parley.api.spi.ModelProvider model, PolicyRule... rules) {
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(rules)).alertSink(alerts::add).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    private List<AuditEvent.Type> events(Conversation c) {
        return store.events(c.id()).stream().map(AuditEvent::type).toList();
    }

    private static void awaitDone(StreamHandle h) throws InterruptedException {
        assertThat(h.await(Duration.ofSeconds(30))).as("stream ended").isTrue();
    }

    // --- PRE ---

    @Test
    void aPreBlockStopsTheTurnBeforeAnyModelCallStoresNoTextAndItsIdIsRefusedTheSameWayWhenSentAgain() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.block(keys).phases(PolicyPhase.PRE).build());
        Prompt prompt = Prompt.text("store " + SECRET + " for me").id("m-1").build();

        assertThatThrownBy(() -> c.send(prompt)).isInstanceOfSatisfying(PolicyBlockedException.class, e -> {
            assertThat(e.policyName()).isEqualTo("keys");
            assertThat(e.phase()).isEqualTo(PolicyPhase.PRE);
            assertThat(e.failClosed()).isFalse();
            assertThat(e.getMessage()).doesNotContain(SECRET);
        });
        assertThat(model.callCount()).isZero();
        assertThat(c.messages(PageRequest.first()).items()).isEmpty();
        assertThat(events(c)).contains(AuditEvent.Type.PROMPT_BLOCKED).doesNotContain(AuditEvent.Type.TURN_FAILED);
        assertThat(store.events(c.id())).allSatisfy(e -> assertThat(e.detail()).doesNotContain(SECRET));

        // Settled: the same refusal, without a model call or another check, however often.
        int checks = keys.checks.get();
        for (int i = 0; i < 3; i++) {
            assertThatThrownBy(() -> c.send(prompt)).isInstanceOfSatisfying(PolicyBlockedException.class,
                    e -> assertThat(e.policyName()).isEqualTo("keys"));
        }
        assertThat(model.callCount()).isZero();
        assertThat(keys.checks.get()).as("a replay is answered from the store").isEqualTo(checks);
        assertThat(c.info().tokensIn()).isZero();
    }

    @Test
    void aPreBlockFindsTheSecretInAdditionalContextToo() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.block(keys).phases(PolicyPhase.PRE).build());

        assertThatThrownBy(() -> c.send(Prompt.text("hello").additionalContext("notes", "the key: " + SECRET).build()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aPreRedactRewritesThePromptAndContextSoTheModelAndTheHistoryOnlyEverHoldThePlaceholder() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.redact(keys).phases(PolicyPhase.PRE).build());

        Reply reply = c.send(Prompt.text("store " + SECRET + " for me").additionalContext("key=" + SECRET).build());

        assertThat(model.lastRequestTexts()).noneMatch(t -> t.contains(SECRET))
                .anyMatch(t -> t.contains("store [REDACTED:SECRET] for me"))
                .anyMatch(t -> t.contains("key=[REDACTED:SECRET]"));
        List<Message> stored = c.messages(PageRequest.first()).items();
        assertThat(stored).extracting(Message::text).noneMatch(t -> t.contains(SECRET));
        assertThat(stored.get(0).text()).isEqualTo("store [REDACTED:SECRET] for me");
        assertThat(reply.policyOutcomes()).filteredOn(o -> o.status() == PolicyOutcome.Status.FOUND).singleElement()
                .satisfies(o -> {
                    assertThat(o.ruleId()).isEqualTo("keys");
                    assertThat(o.phase()).isEqualTo(PolicyPhase.PRE);
                });
        assertThat(events(c)).contains(AuditEvent.Type.REDACTED);
        List<String> kept = storedTexts(store, c.id());
        assertThat(kept).as("what the store keeps").isNotEmpty().noneMatch(t -> t.contains(SECRET))
                .anyMatch(t -> t.contains("[REDACTED:SECRET]"));
    }

    @Test
    void logAndAlertLetTheTurnGoOnRecordItAndAlertTheSinkOncePerFinding() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model,
                PolicyRule.log(keys).id("keys-log").phases(PolicyPhase.PRE).build(),
                PolicyRule.alert(keys).id("keys-alert").phases(PolicyPhase.PRE).build());

        Reply reply = c.send(Prompt.text(SECRET + " and " + SECRET.replace('Q', 'R')).build());

        assertThat(model.callCount()).isEqualTo(1);
        assertThat(reply.policyOutcomes()).extracting(PolicyOutcome::ruleId, PolicyOutcome::status, PolicyOutcome::findings)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("keys-log", PolicyOutcome.Status.FOUND, 2),
                        org.assertj.core.groups.Tuple.tuple("keys-alert", PolicyOutcome.Status.FOUND, 2));
        assertThat(alerts).hasSize(2).allSatisfy(v -> {
            assertThat(v.ruleId()).isEqualTo("keys-alert");
            assertThat(v.messageId()).isEqualTo(reply.promptId());
            assertThat(v.excerpt()).doesNotContain(SECRET).contains("[SECRET]");
        });
        assertThat(events(c)).contains(AuditEvent.Type.POLICY_VIOLATION, AuditEvent.Type.ALERT_RAISED);
    }

    // --- POST on send ---

    @Test
    void aPostBlockOnSendWithholdsTheReplyCountsItsTokensAndSettlesTheId() {
        ScriptedModel model = ScriptedModel.builder().replies(REPLY).build();
        Conversation c = conversation(model, PolicyRule.block(keys).phases(PolicyPhase.POST).build());
        Prompt prompt = Prompt.text("what is my key?").id("m-1").build();

        assertThatThrownBy(() -> c.send(prompt)).isInstanceOfSatisfying(PolicyBlockedException.class,
                e -> assertThat(e.phase()).isEqualTo(PolicyPhase.POST));
        assertThat(model.callCount()).isEqualTo(1);
        assertThat(c.messages(PageRequest.first()).items()).isEmpty();
        assertThat(c.info().tokensOut()).as("the model's tokens were spent").isPositive();
        assertThat(events(c)).contains(AuditEvent.Type.REPLY_BLOCKED);

        assertThatThrownBy(() -> c.send(prompt)).isInstanceOf(PolicyBlockedException.class);
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void aPostRedactOnSendReturnsAndStoresTheRedactedReply() {
        ScriptedModel model = ScriptedModel.builder().replies(REPLY).build();
        Conversation c = conversation(model, PolicyRule.redact(keys).phases(PolicyPhase.POST).build());

        Reply reply = c.send(Prompt.text("what is my key?").build());

        assertThat(reply.text()).isEqualTo(REDACTED_REPLY);
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(REDACTED_REPLY);
    }

    @Test
    void onSendADuringRuleChecksTheWholeReplySinceTheReplyIsDeliveredWhole() {
        ScriptedModel model = ScriptedModel.builder().replies(REPLY).build();
        Conversation c = conversation(model, PolicyRule.block(keys).phases(PolicyPhase.DURING).build());

        assertThatThrownBy(() -> c.send(Prompt.text("what is my key?").build()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThat(c.messages(PageRequest.first()).items()).isEmpty();
    }

    // --- DURING on stream ---

    /** Every way to split the reply in two, and one character at a time. */
    static List<List<String>> splits(String text) {
        List<List<String>> splits = new ArrayList<>();
        for (int i = 1; i < text.length(); i++) {
            splits.add(List.of(text.substring(0, i), text.substring(i)));
        }
        List<String> oneByOne = new ArrayList<>();
        for (char ch : text.toCharArray()) {
            oneByOne.add(String.valueOf(ch));
        }
        splits.add(oneByOne);
        return splits;
    }

    @Test
    void aDuringBlockStopsTheStreamBeforeAnyPartOfASplitSecretReachesTheListener() throws Exception {
        StreamFilterTest.Deltas model = new StreamFilterTest.Deltas();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(PolicyRule.block(keys).phases(PolicyPhase.DURING).build())).build();
        String before = REPLY.substring(0, REPLY.indexOf(SECRET));
        for (List<String> split : splits(REPLY)) {
            Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
            model.next(split);
            StreamingTest.Recorder r = new StreamingTest.Recorder();

            awaitDone(c.stream(Prompt.text("my key?").build(), r));

            assertThat(before).as("split %s: what the listener got", split.get(0).length()).startsWith(r.text());
            assertThat(r.errors).singleElement().isInstanceOfSatisfying(PolicyBlockedException.class,
                    e -> assertThat(e.phase()).isEqualTo(PolicyPhase.DURING));
            assertThat(r.completions).isEmpty();
            assertThat(c.messages(PageRequest.first()).items()).isEmpty();
            assertThat(events(c)).contains(AuditEvent.Type.REPLY_BLOCKED);
        }
    }

    @Test
    void aDuringRedactDeliversExactlyTheRedactedReplyAtEverySplitAndStoresIt() throws Exception {
        StreamFilterTest.Deltas model = new StreamFilterTest.Deltas();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(PolicyRule.redact(keys).phases(PolicyPhase.DURING).build())).build();
        for (List<String> split : splits(REPLY)) {
            Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
            model.next(split);
            StreamingTest.Recorder r = new StreamingTest.Recorder();

            awaitDone(c.stream(Prompt.text("my key?").build(), r));

            assertThat(r.text()).as("split %s", split.get(0).length()).isEqualTo(REDACTED_REPLY);
            assertThat(r.completions).singleElement().satisfies(reply -> {
                assertThat(reply.text()).isEqualTo(REDACTED_REPLY);
                assertThat(reply.policyOutcomes()).filteredOn(o -> o.phase() == PolicyPhase.DURING).singleElement()
                        .satisfies(o -> assertThat(o.findings()).isEqualTo(1));
            });
            assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(REDACTED_REPLY);
        }
    }

    @Test
    void aDuringLogRecordsEachFindingOnceHoweverManyWindowsSawIt() throws Exception {
        StreamFilterTest.Deltas model = new StreamFilterTest.Deltas();
        List<Violation> seen = alerts;
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(PolicyRule.alert(keys).phases(PolicyPhase.DURING).build()))
                .alertSink(seen::add).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        String text = REPLY + " Again: " + SECRET.replace('Q', 'Z') + ". Done.";
        model.next(splits(text).get(splits(text).size() - 1)); // one character a delta
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("my key?").build(), r));

        assertThat(r.text()).isEqualTo(text);
        assertThat(seen).hasSize(2);
        assertThat(r.completions.get(0).policyOutcomes()).singleElement()
                .satisfies(o -> assertThat(o.findings()).isEqualTo(2));
    }

    @Test
    void aStreamedReplyIsHeldBackOnlyAsFarAsTheLongestSpanARuleNeeds() throws Exception {
        StreamFilterTest.Deltas model = new StreamFilterTest.Deltas();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(PolicyRule.block(keys).phases(PolicyPhase.DURING).build())).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        String text = "a".repeat(100);
        model.next(splits(text).get(splits(text).size() - 1));
        List<Integer> heldWhenDelivered = new CopyOnWriteArrayList<>();
        AtomicInteger delivered = new AtomicInteger();
        StreamingTest.Recorder r = new StreamingTest.Recorder() {
            @Override
            public void onDelta(String delta) {
                super.onDelta(delta);
                delivered.addAndGet(delta.length());
            }
        };

        awaitDone(c.stream(Prompt.text("go").build(), r));

        assertThat(r.text()).isEqualTo(text);
        // The first delivery comes once 32 characters arrived: the rule's span less one is held, one goes.
        assertThat(r.deltas.get(0)).hasSize(1);
        assertThat(r.deltas).hasSizeGreaterThan(60);
    }

    @Test
    void aRetriedStreamIsCheckedAfreshSoTheFirstAttemptsHeldTextNeitherLeaksNorConfusesTheSecond() throws Exception {
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        dev.parley.api.spi.ModelProvider flaky = new dev.parley.api.spi.ModelProvider() {
            @Override
            public dev.parley.api.values.ModelResponse chat(dev.parley.api.values.ModelRequest request) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void stream(dev.parley.api.values.ModelRequest request,
                               dev.parley.api.values.StreamingHandler handler) {
                if (calls.incrementAndGet() == 1) {
                    handler.onDelta("Your key is sk-li");
                    handler.onError(new IllegalStateException("connection reset"));
                    return;
                }
                for (char ch : REPLY.toCharArray()) {
                    handler.onDelta(String.valueOf(ch));
                }
                handler.onComplete(new dev.parley.api.values.ModelResponse(REPLY, null));
            }
        };
        dev.parley.api.spi.PromptStage retry = chain -> {
            try {
                return chain.proceed(chain.turn());
            } catch (dev.parley.api.ModelUnavailableException e) {
                return chain.proceed(chain.turn());
            }
        };
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, flaky)
                .pipeline(dev.parley.api.PromptPipeline.defaults()
                        .insert(dev.parley.api.PromptPipeline.Position.BEFORE_MODEL_CALL, retry))
                .policies(PolicySet.of(PolicyRule.redact(keys).phases(PolicyPhase.DURING).build())).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("my key?").build(), r));

        assertThat(calls.get()).isEqualTo(2);
        assertThat(r.errors).isEmpty();
        assertThat(r.text()).isEqualTo(REDACTED_REPLY);
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo(REDACTED_REPLY);
    }

    @Test
    void aPostOnlyRuleOnAStreamDecidesWhatIsStoredNotWhatWasDelivered() throws Exception {
        StreamFilterTest.Deltas model = new StreamFilterTest.Deltas();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(PolicyRule.block(keys).phases(PolicyPhase.POST).build())).build();
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        model.next(List.of(REPLY));
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        awaitDone(c.stream(Prompt.text("my key?").build(), r));

        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(c.messages(PageRequest.first()).items()).isEmpty();
    }

    @Test
    void aStreamBlockedBeforeTheCallIsRefusedWithoutAModelCall() throws Exception {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.block(keys).phases(PolicyPhase.PRE).build());
        StreamingTest.Recorder r = new StreamingTest.Recorder();

        StreamHandle h = c.stream(Prompt.text("store " + SECRET).id("s-1").build(), r);
        awaitDone(h);

        assertThat(r.deltas).isEmpty();
        assertThat(r.errors).singleElement().isInstanceOf(PolicyBlockedException.class);
        assertThat(model.callCount()).isZero();
        assertThatThrownBy(() -> c.send(Prompt.text("store " + SECRET).id("s-1").build()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThat(model.callCount()).isZero();
    }

    // --- Not evaluated ---

    private static Policy throwing() {
        return new Policy() {
            @Override
            public String id() {
                return "broken";
            }

            @Override
            public List<Finding> check(PolicyInput input) {
                throw new IllegalStateException("judge down: " + input.text());
            }
        };
    }

    private static Policy slow(Duration delay) {
        return new Policy() {
            @Override
            public String id() {
                return "slow";
            }

            @Override
            public List<Finding> check(PolicyInput input) {
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return List.of(new Finding(0, input.text().length(), Finding.JUDGE, "slow", "too late to count"));
            }
        };
    }

    @Test
    void aFailOpenPolicyThatThrowsIsNotEvaluatedAndTheTurnGoesOn() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.block(throwing()).build());

        Reply reply = c.send(Prompt.text("hello").build());

        assertThat(reply.policyOutcomes()).extracting(PolicyOutcome::status).containsOnly(PolicyOutcome.Status.NOT_EVALUATED);
        assertThat(reply.policyOutcomes()).extracting(PolicyOutcome::phase).contains(PolicyPhase.PRE, PolicyPhase.POST);
        assertThat(model.callCount()).isEqualTo(1);
    }

    @Test
    void aFailClosedPolicyThatThrowsBlocksTheTurnSayingSoBeforeTheModelIsCalled() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.log(throwing()).failMode(FailMode.CLOSED).build());

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build()))
                .isInstanceOfSatisfying(PolicyBlockedException.class, e -> {
                    assertThat(e.failClosed()).isTrue();
                    assertThat(e.getMessage()).contains("could not be evaluated").doesNotContain("hello");
                });
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aPolicyOverItsTimeBudgetIsNotEvaluatedAndItsLateFindingsAreDropped() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.block(slow(Duration.ofMillis(200)))
                .phases(PolicyPhase.PRE).timeBudget(Duration.ofMillis(20)).build());

        Reply reply = c.send(Prompt.text("hello").build());

        assertThat(reply.policyOutcomes()).singleElement()
                .satisfies(o -> assertThat(o.status()).isEqualTo(PolicyOutcome.Status.NOT_EVALUATED));
    }

    // --- Scope ---

    @Test
    void aWorkspaceRuleAppliesInThatWorkspaceOnlyAndAddsToTheWiderOnes() {
        ScriptedModel model = ScriptedModel.echo();
        engine = ConversationEngine.builder().store(store).model(EngineFixture.MODEL, model)
                .policies(PolicySet.of(
                        PolicyRule.log(keys).id("org-keys").scope(PolicyScope.organization(ORG)).build(),
                        PolicyRule.block(keys).id("ws2-keys").scope(PolicyScope.workspace(ORG, "ws-2")).build()))
                .build();
        dev.parley.api.Caller both = dev.parley.api.Caller.user("alice", ORG).member(WS).member("ws-2").build();
        Conversation inWs1 = engine.as(both).create(NewConversation.inWorkspace(WS).build());
        Conversation inWs2 = engine.as(both).create(NewConversation.inWorkspace("ws-2").build());

        Reply reply = inWs1.send(Prompt.text("key " + SECRET).build());
        assertThat(reply.policyOutcomes()).extracting(PolicyOutcome::ruleId).containsOnly("org-keys");
        assertThatThrownBy(() -> inWs2.send(Prompt.text("key " + SECRET).build()))
                .isInstanceOfSatisfying(PolicyBlockedException.class,
                        e -> assertThat(e.policyName()).isEqualTo("ws2-keys"));
    }

    // --- Alerts under load ---

    @Test
    void alertsReachTheSinkExactlyOncePerFindingUnderSixteenConcurrentTurns() throws Exception {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.alert(keys).phases(PolicyPhase.PRE, PolicyPhase.POST).build());
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                int n = i;
                replies.add(pool.submit(() -> c.send(Prompt.text("turn " + n + " " + SECRET).id("t-" + n).build())));
            }
            for (Future<Reply> f : replies) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        // The echo model repeats the prompt: one finding before the call and one after, per turn.
        assertThat(alerts).hasSize(128);
        assertThat(alerts).extracting(Violation::id).doesNotHaveDuplicates();
        assertThat(alerts).extracting(Violation::messageId).containsOnly(
                java.util.stream.IntStream.range(0, 64).mapToObj(i -> "t-" + i).toArray(String[]::new));
    }

    // --- Violations on record ---

    @Test
    void violationsAreStoredWithTheTurnAndListedNewestFirstToAdminsOnly() {
        ScriptedModel model = ScriptedModel.echo();
        Conversation c = conversation(model, PolicyRule.redact(keys).phases(PolicyPhase.PRE).build(),
                PolicyRule.block(keys).id("keys-post").phases(PolicyPhase.POST).build());
        c.send(Prompt.text("first " + SECRET).id("m-1").build()); // redacted at PRE; the echo holds no key then
        Conversation other = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        other.send(Prompt.text("second " + SECRET).id("m-2").build());

        dev.parley.api.Caller wsAdmin = dev.parley.api.Caller.user("wendy", ORG).admin(WS).build();
        dev.parley.api.Caller orgAdmin = dev.parley.api.Caller.user("olga", ORG).organizationAdmin().build();
        dev.parley.api.Caller otherAdmin = dev.parley.api.Caller.user("oscar", ORG).admin("ws-2").build();

        dev.parley.api.Page<Violation> page = engine.as(wsAdmin).violations(WS, PageRequest.first());
        assertThat(page.totalElements()).isEqualTo(2);
        assertThat(page.items()).extracting(Violation::messageId).containsExactly("m-2", "m-1");
        assertThat(page.items()).allSatisfy(v -> {
            assertThat(v.ruleId()).isEqualTo("keys");
            assertThat(v.phase()).isEqualTo(PolicyPhase.PRE);
            assertThat(v.action()).isEqualTo(dev.parley.api.policy.PolicyAction.REDACT);
            assertThat(v.category()).isEqualTo(Finding.SECRET);
            assertThat(v.excerpt()).doesNotContain(SECRET).contains("[SECRET]");
        });
        assertThat(engine.as(orgAdmin).get(c.id()).violations(PageRequest.first()).items())
                .extracting(Violation::messageId).containsExactly("m-1");

        assertThatThrownBy(() -> c.violations(PageRequest.first()))
                .isInstanceOf(dev.parley.api.AccessDeniedException.class);
        assertThatThrownBy(() -> engine.as(member("alice")).violations(WS, PageRequest.first()))
                .isInstanceOf(dev.parley.api.AccessDeniedException.class);
        assertThatThrownBy(() -> engine.as(otherAdmin).violations(WS, PageRequest.first()))
                .isInstanceOf(dev.parley.api.AccessDeniedException.class);
        assertThatThrownBy(() -> engine.as(wsAdmin).violations(" ", PageRequest.first()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("workspaceId"));
    }

    @Test
    void aBlockedTurnsViolationIsOnRecordAndATurnThatFailsToCommitLeavesNone() {
        ScriptedModel model = ScriptedModel.builder().replies(REPLY).build();
        Conversation c = conversation(model, PolicyRule.alert(keys).phases(PolicyPhase.PRE).build(),
                PolicyRule.block(keys).id("keys-post").phases(PolicyPhase.POST).build());
        model.failNext(new IllegalStateException("upstream down"));
        assertThatThrownBy(() -> c.send(Prompt.text("key " + SECRET).id("m-1").build()))
                .isInstanceOf(dev.parley.api.ModelUnavailableException.class);
        dev.parley.api.Caller wsAdmin = dev.parley.api.Caller.user("wendy", ORG).admin(WS).build();
        assertThat(engine.as(wsAdmin).get(c.id()).violations(PageRequest.first()).items())
                .as("the PRE alert of a turn that failed is not on record").isEmpty();
        assertThat(alerts).isEmpty();

        assertThatThrownBy(() -> c.send(Prompt.text("key " + SECRET).id("m-1").build()))
                .isInstanceOf(PolicyBlockedException.class);

        assertThat(engine.as(wsAdmin).get(c.id()).violations(PageRequest.first()).items())
                .extracting(Violation::ruleId, Violation::phase)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("keys", PolicyPhase.PRE),
                        org.assertj.core.groups.Tuple.tuple("keys-post", PolicyPhase.POST));
        assertThat(alerts).singleElement().satisfies(v -> assertThat(v.ruleId()).isEqualTo("keys"));
    }

    // --- Configuration ---

    @Test
    void badPolicyConfigurationIsRefusedWhenSetNamingTheField() {
        assertThatThrownBy(() -> PolicyRule.of(keys, null)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.field()).isEqualTo("action"));
        assertThatThrownBy(() -> PolicyRule.block(null)).isInstanceOfSatisfying(InvalidRequestException.class,
                e -> assertThat(e.field()).isEqualTo("policy"));
        assertThatThrownBy(() -> PolicyRule.block(keys).phases()).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("phases"));
        assertThatThrownBy(() -> PolicyRule.block(keys).timeBudget(Duration.ZERO)).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("timeBudget"));
        assertThatThrownBy(() -> PolicyRule.block(keys).timeBudget(Duration.ofMillis(-1))).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("timeBudget"));
        assertThatThrownBy(() -> PolicyRule.block(keys).id("Has Space")).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("id"));
        assertThatThrownBy(() -> PolicyRule.block(keys).scope(null)).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("scope"));
        assertThatThrownBy(() -> new PolicyScope(null, "ws-1", null)).isInstanceOfSatisfying(
                InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("scope.organizationId"));
        assertThatThrownBy(() -> PolicySet.of(PolicyRule.block(keys).build(), PolicyRule.log(keys).build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("rules"));
        assertThatThrownBy(() -> ConversationEngine.builder().policies(PolicySet.none()).policies(PolicySet.none()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("policies");
        assertThatThrownBy(() -> ConversationEngine.builder().alertSink(v -> { }).alertSink(v -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("alertSink");
    }

    /** The violations a store keeps of a conversation, whatever its workspace. */
    static final class StoredViolations {
        static List<Violation> violations(dev.parley.api.spi.ConversationStore kept, String conversationId) {
            if (!(kept instanceof dev.parley.api.spi.ViolationLog log)) {
                return List.of();
            }
            dev.parley.api.ConversationInfo info = kept.find(conversationId).orElseThrow();
            return log.violations(dev.parley.api.policy.ViolationQuery.conversation(info.organizationId(),
                    info.workspaceId(), conversationId), PageRequest.of(1, 100)).items();
        }
    }
}
