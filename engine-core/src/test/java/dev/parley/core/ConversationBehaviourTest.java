package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ErrorCode;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.ModelScope;
import dev.parley.api.ModelUnavailableException;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.Steering;
import dev.parley.api.Usage;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ModelMessage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

public class ConversationBehaviourTest {
    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private final ScriptedModel model = ScriptedModel.echo();
    private ConversationStore store = newStore();
    private final SteeringResolver steering = new SteeringResolver() {
        @Override
        public Optional<String> brandVoice(String organizationId, String id) {
            return Optional.ofNullable(Map.of("bv-1", "Speak like a pirate.", "bv-2", "Speak formally.").get(id));
        }

        @Override
        public Optional<String> targetAudience(String organizationId, String id) {
            return Optional.ofNullable(Map.of("ta-1", "children").get(id));
        }
    };
    private ConversationEngine engine = configure(EngineFixture.builder(model, store)).steeringResolver(steering).build();

    /**
     * The engine configuration these tests run under; a subclass changes it (the steering cache off, say) to run
     * every test again under another. The default leaves the builder as it is.
     */
    protected ConversationEngine.Builder configure(ConversationEngine.Builder builder) {
        return builder;
    }

    /** Whether {@link #configure} keeps the engine's steering cache on; a subclass that turns it off says so. */
    protected boolean steeringIsCached() {
        return true;
    }

    @AfterEach
    void close() {
        engine.close();
    }

    /**
     * Closes the current engine (and with it its store) and starts a builder on a fresh store: engines never share
     * a store, and none is left open.
     */
    private ConversationEngine.Builder freshEngine(ScriptedModel m) {
        engine.close();
        store = newStore();
        return configure(EngineFixture.builder(m, store));
    }

    private Conversation create(NewConversation.Builder b) {
        return engine.as(member("alice")).create(b.build());
    }

    private String systemMessageOf(Conversation c) {
        c.send(Prompt.text("hi").saveHistory(false).build());
        ModelMessage first = model.lastRequest().messages().get(0);
        return first.role() == ModelMessage.Role.SYSTEM ? first.text() : null;
    }

    @Test
    void personalityWinsOverBrandVoiceAndTargetAudienceIsAppended() {
        Conversation c = create(NewConversation.inWorkspace(WS).personality("Be terse.").brandVoiceId("bv-1")
                .targetAudienceId("ta-1"));
        assertThat(systemMessageOf(c)).isEqualTo("Be terse.\n\nTarget audience: children");
    }

    @Test
    void brandVoiceSteersWhenThereIsNoPersonality() {
        Conversation c = create(NewConversation.inWorkspace(WS).brandVoiceId("bv-1").personalityId("p-7"));
        assertThat(systemMessageOf(c)).isEqualTo("Speak like a pirate.");
    }

    /** The fixture's resolver, counting how often it is asked. */
    private final class CountingResolver implements SteeringResolver {
        final java.util.concurrent.atomic.AtomicInteger asked = new java.util.concurrent.atomic.AtomicInteger();

        @Override
        public Optional<String> brandVoice(String organizationId, String id) {
            asked.incrementAndGet();
            return steering.brandVoice(organizationId, id);
        }

        @Override
        public Optional<String> targetAudience(String organizationId, String id) {
            asked.incrementAndGet();
            return steering.targetAudience(organizationId, id);
        }
    }

    @Test
    void resolvedSteeringIsReusedAcrossTurnsButAPatchOfIdsTakesEffectOnTheNextTurn() {
        CountingResolver counting = new CountingResolver();
        engine = freshEngine(model).steeringResolver(counting).build();
        Conversation c = create(NewConversation.inWorkspace(WS).brandVoiceId("bv-1"));
        int afterCreate = counting.asked.get();

        assertThat(systemMessageOf(c)).isEqualTo("Speak like a pirate.");
        assertThat(systemMessageOf(c)).isEqualTo("Speak like a pirate.");
        // Cached: not asked again. With the cache off (TTL 0): asked for the brand voice on each turn.
        assertThat(counting.asked.get()).isEqualTo(steeringIsCached() ? afterCreate : afterCreate + 2);

        c.update(ConversationPatch.builder().brandVoiceId("bv-2").build());
        assertThat(systemMessageOf(c)).isEqualTo("Speak formally.");
    }

    @Test
    void aZeroSteeringCacheTtlAsksTheResolverOnEveryTurn() {
        CountingResolver counting = new CountingResolver();
        engine.close();
        store = newStore();
        engine = EngineFixture.builder(model, store).steeringResolver(counting)
                .steeringCacheTtl(java.time.Duration.ZERO).build();
        Conversation c = create(NewConversation.inWorkspace(WS).brandVoiceId("bv-1"));
        int afterCreate = counting.asked.get();
        systemMessageOf(c);
        systemMessageOf(c);
        assertThat(counting.asked.get()).isEqualTo(afterCreate + 2);
    }

    @Test
    void aBrandVoiceTheHostAddsIsUsableAtOnceEvenAfterItWasUnknown() {
        java.util.Map<String, String> voices = new java.util.concurrent.ConcurrentHashMap<>();
        SteeringResolver growing = new SteeringResolver() {
            @Override
            public Optional<String> brandVoice(String organizationId, String id) {
                return Optional.ofNullable(voices.get(id));
            }

            @Override
            public Optional<String> targetAudience(String organizationId, String id) {
                return Optional.empty();
            }
        };
        engine = freshEngine(model).steeringResolver(growing).build();
        assertThatThrownBy(() -> create(NewConversation.inWorkspace(WS).brandVoiceId("bv-new")))
                .isInstanceOf(InvalidRequestException.class);

        voices.put("bv-new", "Speak warmly.");

        assertThat(systemMessageOf(create(NewConversation.inWorkspace(WS).brandVoiceId("bv-new"))))
                .isEqualTo("Speak warmly.");
    }

    @Test
    void clientTimesOutsideYearsOneTo9999OrFarAheadOfTheEngineClockAreRefusedBeforeAnythingIsStored() {
        Conversation c = create(NewConversation.inWorkspace(WS));
        Instant farFuture = Instant.parse("+300000-01-01T00:00:00Z");
        assertThatThrownBy(() -> Prompt.text("x").createdAt(farFuture).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("createdAt"));
        assertThatThrownBy(() -> NewConversation.inWorkspace(WS).createdAt(Instant.MAX).build())
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("createdAt"));
        // A storable year but far ahead of the engine's clock: refused when sent, before anything is stored.
        Prompt pinnedToTheTop = Prompt.text("x").createdAt(Instant.parse("9999-12-31T00:00:00Z")).build();
        assertThatThrownBy(() -> c.send(pinnedToTheTop))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("createdAt"));
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(c.info().tokensIn()).isZero();
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aModelReplyWithNulOrALoneSurrogateIsStoredWithReplacementCharacters() {
        engine = freshEngine(ScriptedModel.builder().replyWith(r -> "a\u0000b\uD800c 😀").build()).build();
        Conversation c = create(NewConversation.inWorkspace(WS));

        c.send(Prompt.text("x").build());

        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo("a\uFFFDb\uFFFDc 😀");
    }

    @Test
    void withoutSteeringThereIsNoSystemMessage() {
        assertThat(systemMessageOf(create(NewConversation.inWorkspace(WS)))).isNull();
    }

    @Test
    void patchKeepsOmittedFieldsClearsNullsAndSetsValues() {
        Conversation c = create(NewConversation.inWorkspace(WS).personality("Be terse.").personalityId("p-1")
                .brandVoiceId("bv-1").targetAudienceId("ta-1"));

        ConversationInfo after = c.update(ConversationPatch.builder().personality(null).brandVoiceId("bv-2").build());

        assertThat(after.steering()).isEqualTo(new Steering(null, "p-1", "bv-2", "ta-1"));
        assertThat(c.info().steering()).isEqualTo(after.steering());
        assertThat(systemMessageOf(c)).isEqualTo("Speak formally.\n\nTarget audience: children");
        assertThat(store.events(c.id())).extracting(AuditEvent::type)
                .containsExactly(AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.CONVERSATION_UPDATED);
        assertThat(store.events(c.id()).get(1).detail()).isEqualTo("fields=personality,brandVoiceId");
    }

    @Test
    void patchWithNoFieldIsRefusedAndChangesNothing() {
        Conversation c = create(NewConversation.inWorkspace(WS).personality("Be terse."));
        ConversationInfo before = c.info();

        assertThatThrownBy(() -> c.update(ConversationPatch.builder().build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("patch"));
        assertThat(c.info()).isEqualTo(before);
    }

    @Test
    void patchCanClearTheModelSoTheEngineDefaultApplies() {
        ScriptedModel other = ScriptedModel.builder().replyWith(r -> "from other").build();
        engine = freshEngine(model).model("other", other).build();
        Conversation c = create(NewConversation.inWorkspace(WS).modelName("other"));
        assertThat(c.send(Prompt.text("a").build()).text()).isEqualTo("from other");

        c.update(ConversationPatch.builder().modelName(null).build());

        Reply r = c.send(Prompt.text("b").build());
        assertThat(r.model()).isEqualTo(EngineFixture.MODEL);
        assertThat(r.text()).isEqualTo("echo: b");
    }

    @Test
    void turnModelIsThePromptsThenTheConversationsThenTheDefault() {
        ScriptedModel small = ScriptedModel.builder().replyWith(r -> "small").build();
        ScriptedModel large = ScriptedModel.builder().replyWith(r -> "large").build();
        engine = freshEngine(model).model("small", small).model("large", large).build();

        Conversation plain = create(NewConversation.inWorkspace(WS));
        assertThat(plain.send(Prompt.text("x").build()).model()).isEqualTo(EngineFixture.MODEL);
        Conversation withModel = create(NewConversation.inWorkspace(WS).modelName("small"));
        assertThat(withModel.send(Prompt.text("x").build()).text()).isEqualTo("small");
        assertThat(withModel.send(Prompt.text("x").model("large").build()).text()).isEqualTo("large");
    }

    @Test
    void theNarrowestScopeThatRegistersAModelNameWins() {
        ScriptedModel global = ScriptedModel.builder().replyWith(r -> "global").build();
        ScriptedModel org = ScriptedModel.builder().replyWith(r -> "org").build();
        ScriptedModel ws = ScriptedModel.builder().replyWith(r -> "workspace").build();
        ScriptedModel repo = ScriptedModel.builder().replyWith(r -> "repo key").build();
        engine = freshEngine(model)
                .model("gpt", global)
                .model(ModelScope.organization(EngineFixture.ORG), "gpt", org)
                .model(ModelScope.workspace(EngineFixture.ORG, "ws-2"), "gpt", ws)
                .model(ModelScope.repository(EngineFixture.ORG, "repo-1"), "gpt", repo)
                .scopeDirectory(ScopeDirectory.of(Map.of(
                        "repo-1", new ScopeDirectory.RepositoryScope("repo-1", EngineFixture.ORG, "ws-2"),
                        "repo-2", new ScopeDirectory.RepositoryScope("repo-2", EngineFixture.ORG, "ws-2"))))
                .build();
        var caller = dev.parley.api.Caller.user("alice", EngineFixture.ORG).member(WS).member("ws-2").build();
        Prompt p = Prompt.text("x").model("gpt").build();

        assertThat(engine.as(caller).create(NewConversation.inRepository("repo-1").build()).send(p).text()).isEqualTo("repo key");
        assertThat(engine.as(caller).create(NewConversation.inRepository("repo-2").build()).send(p).text()).isEqualTo("workspace");
        assertThat(engine.as(caller).create(NewConversation.inWorkspace(WS).build()).send(p).text()).isEqualTo("org");
        var otherOrg = dev.parley.api.Caller.user("bob", "org-2").member("ws-9").member("ws-2").build();
        assertThat(engine.as(otherOrg).create(NewConversation.inWorkspace("ws-9").build()).send(p).text()).isEqualTo("global");
        // A workspace of another organization with the same id does not see the workspace's model.
        assertThat(engine.as(otherOrg).create(NewConversation.inWorkspace("ws-2").build()).send(p).text()).isEqualTo("global");
    }

    @Test
    void reportedUsageIsStoredOnTheReplyAndAddedToTheTotals() {
        ScriptedModel metered = ScriptedModel.builder().replyWith(r -> "ok").usage(120, 7).build();
        engine = freshEngine(metered).build();
        Conversation c = create(NewConversation.inWorkspace(WS));

        Reply first = c.send(Prompt.text("one").build());
        c.send(Prompt.text("two").build());

        assertThat(first.usage()).isEqualTo(new Usage(120, 7));
        assertThat(c.info().tokensIn()).isEqualTo(240);
        assertThat(c.info().tokensOut()).isEqualTo(14);
        Message reply = c.messages(PageRequest.first()).items().get(1);
        assertThat(reply.tokens()).isEqualTo(7);
        assertThat(reply.usage()).isEqualTo(new Usage(120, 7));
    }

    @Test
    void withoutReportedUsageTokensAreEstimatedAndEachMessageKeepsItsCount() {
        Conversation c = create(NewConversation.inWorkspace(WS));
        Reply r = c.send(Prompt.text("How many tokens is this sentence?").build());

        Message user = c.messages(PageRequest.first()).items().get(0);
        Message reply = c.messages(PageRequest.first()).items().get(1);
        assertThat(user.tokens()).isBetween(5, 12);
        assertThat(reply.tokens()).isGreaterThan(user.tokens());
        assertThat(r.usage()).isEqualTo(new Usage(user.tokens(), reply.tokens()));
        assertThat(c.info().tokensIn()).isEqualTo(user.tokens());
        assertThat(c.info().tokensOut()).isEqualTo(reply.tokens());
    }

    @Test
    void saveHistoryFalseAnswersAndCountsButLeavesNoMessage() {
        Conversation c = create(NewConversation.inWorkspace(WS));
        c.send(Prompt.text("kept").build());

        Reply r = c.send(Prompt.text("secret question").saveHistory(false).build());
        c.send(Prompt.text("next").build());

        assertThat(r.text()).isEqualTo("echo: secret question");
        assertThat(c.messages(PageRequest.first()).items()).extracting(Message::text)
                .containsExactly("kept", "echo: kept", "next", "echo: next");
        assertThat(model.lastRequestTexts()).noneMatch(t -> t.contains("secret"));
        assertThat(c.info().tokensOut()).isEqualTo(c.messages(PageRequest.first()).items().stream()
                .filter(m -> m.role() == Role.ASSISTANT).mapToLong(Message::tokens).sum() + r.usage().tokensOut());
    }

    @Test
    void plaintextRemovesMarkdownFromTheReplyButTheHistoryKeepsIt() {
        ScriptedModel md = ScriptedModel.builder().replyWith(r -> "# Title\n\nSome **bold** and `code`.").build();
        engine = freshEngine(md).build();
        Conversation c = create(NewConversation.inWorkspace(WS));

        Reply r = c.send(Prompt.text("x").plaintext(true).build());

        assertThat(r.text()).isEqualTo("Title\nSome bold and code.");
        assertThat(c.messages(PageRequest.first()).items().get(1).text()).isEqualTo("# Title\n\nSome **bold** and `code`.");
    }

    @Test
    void tagsAndClientCreationTimeAreStoredOnTheTurn() {
        Instant clientTime = Instant.parse("2024-05-06T07:08:09Z");
        Conversation c = engine.as(member("alice"))
                .create(NewConversation.inWorkspace(WS).createdAt(clientTime).build());
        c.send(Prompt.text("x").id("m-1").user("u-42").source("slack").createdAt(clientTime).build());

        assertThat(c.info().createdAt()).isEqualTo(clientTime);
        Message user = c.messages(PageRequest.first()).items().get(0);
        Message reply = c.messages(PageRequest.first()).items().get(1);
        assertThat(user.id()).isEqualTo("m-1");
        assertThat(user.createdAt()).isEqualTo(clientTime);
        assertThat(user.user()).isEqualTo("u-42");
        assertThat(reply.source()).isEqualTo("slack");
        assertThat(reply.model()).isEqualTo(EngineFixture.MODEL);
    }

    @Test
    void aFailedModelCallStoresNothingRecordsAFailureAndTheSameIdCanBeSentAgain() {
        Conversation c = create(NewConversation.inWorkspace(WS));
        model.failNext(new RuntimeException("upstream said 503"));

        assertThatThrownBy(() -> c.send(Prompt.text("x").id("m-1").build()))
                .isInstanceOfSatisfying(ModelUnavailableException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.MODEL_UNAVAILABLE);
                    assertThat(e.getMessage()).isEqualTo("model scripted unavailable: failed (RuntimeException)");
                    assertThat(e.getCause()).hasMessage("upstream said 503");
                });
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(c.info().tokensIn()).isZero();
        assertThat(store.events(c.id())).extracting(AuditEvent::type).contains(AuditEvent.Type.TURN_FAILED);

        Reply retry = c.send(Prompt.text("x").id("m-1").build());
        assertThat(retry.replayed()).isFalse();
        assertThat(retry.text()).isEqualTo("echo: x");
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
    }

    @Test
    void conversationsAreListedNewestFirstAndMessagesOldestFirstInPages() {
        // A user of its own: stores shared between tests hold other tests' conversations.
        var conversations = engine.as(member("lister-" + java.util.UUID.randomUUID()));
        for (int i = 0; i < 5; i++) {
            conversations.create(NewConversation.inWorkspace(WS).build());
        }
        var page1 = conversations.list(dev.parley.api.ConversationQuery.all(PageRequest.of(1, 2)));
        var page3 = conversations.list(dev.parley.api.ConversationQuery.all(PageRequest.of(3, 2)));
        assertThat(page1.items()).hasSize(2);
        assertThat(page1.items().get(0).createdAt()).isAfter(page1.items().get(1).createdAt());
        assertThat(page1.totalElements()).isEqualTo(5);
        assertThat(page1.totalPages()).isEqualTo(3);
        assertThat(page1.currentPage()).isEqualTo(1);
        assertThat(page1.size()).isEqualTo(2);
        assertThat(page3.items()).hasSize(1);
        assertThat(page3.items().get(0).createdAt()).isBefore(page1.items().get(1).createdAt());

        Conversation c = conversations.get(page1.items().get(0).id());
        for (int i = 1; i <= 3; i++) {
            c.send(Prompt.text("q" + i).build());
        }
        var messages = c.messages(PageRequest.of(2, 4));
        assertThat(messages.items()).extracting(Message::text).containsExactly("q3", "echo: q3");
        assertThat(messages.totalElements()).isEqualTo(6);
        assertThat(messages.totalPages()).isEqualTo(2);
        assertThat(c.messages(PageRequest.of(3, 4)).items()).isEmpty();
    }

    @Test
    void theConversationsModelParametersReachTheModelAndAPromptOverridesEachOneItSets() {
        dev.parley.api.ModelParameters ofConversation = dev.parley.api.ModelParameters.builder().maxOutputTokens(300)
                .temperature(0.2).stopSequences(java.util.List.of("\n\n", "END:", "12:x"))
                .responseFormat(dev.parley.api.ModelParameters.ResponseFormat.JSON).build();
        Conversation c = create(NewConversation.inWorkspace(WS).modelParameters(ofConversation));
        assertThat(c.info().modelParameters()).isEqualTo(ofConversation);

        c.send(Prompt.text("one").build());
        assertThat(model.lastRequest().parameters()).isEqualTo(ofConversation);

        c.send(Prompt.text("two").modelParameters(dev.parley.api.ModelParameters.builder().maxOutputTokens(50).build()).build());
        assertThat(model.lastRequest().parameters()).isEqualTo(dev.parley.api.ModelParameters.builder().maxOutputTokens(50)
                .temperature(0.2).stopSequences(java.util.List.of("\n\n", "END:", "12:x"))
                .responseFormat(dev.parley.api.ModelParameters.ResponseFormat.JSON).build());
        // A conversation without parameters leaves the model's own configuration alone.
        Conversation plain = create(NewConversation.inWorkspace(WS));
        plain.send(Prompt.text("three").build());
        assertThat(model.lastRequest().parameters()).isEqualTo(dev.parley.api.ModelParameters.NONE);
    }

    @Test
    void aPatchReplacesOrClearsTheModelParametersAsAWholeAndKeepsEverythingElse() {
        Conversation c = create(NewConversation.inWorkspace(WS).personality("Be brief.")
                .modelParameters(dev.parley.api.ModelParameters.builder().maxOutputTokens(300).temperature(0.5).build()));
        dev.parley.api.ModelParameters replacement = dev.parley.api.ModelParameters.builder()
                .stopSequences(java.util.List.of("STOP")).build();

        ConversationInfo replaced = c.update(ConversationPatch.builder().modelParameters(replacement).build());
        assertThat(replaced.modelParameters()).isEqualTo(replacement);
        assertThat(c.info().modelParameters()).isEqualTo(replacement);
        assertThat(c.info().steering().personality()).isEqualTo("Be brief.");

        // A patch of other fields keeps them; a cleared set leaves none.
        c.update(ConversationPatch.builder().personality("Be kind.").build());
        assertThat(c.info().modelParameters()).isEqualTo(replacement);
        c.update(ConversationPatch.builder().modelParameters(null).build());
        assertThat(c.info().modelParameters()).isEqualTo(dev.parley.api.ModelParameters.NONE);
        c.send(Prompt.text("x").build());
        assertThat(model.lastRequest().parameters()).isEqualTo(dev.parley.api.ModelParameters.NONE);
    }

    @Test
    void aReusedIdWithOtherModelParametersIsADifferentRequestAndIsRefused() {
        Conversation c = create(NewConversation.inWorkspace(WS));
        c.send(Prompt.text("hello").id("m-1").build());
        assertThatThrownBy(() -> c.send(Prompt.text("hello").id("m-1")
                .modelParameters(dev.parley.api.ModelParameters.builder().temperature(1.5).build()).build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("id"));
        assertThat(c.send(Prompt.text("hello").id("m-1").build()).replayed()).isTrue();
    }

    @Test
    void anEventAStageRecordsWithTheTurnIsStoredAndPublishedOnlyWhenTheTurnIs() {
        java.util.List<AuditEvent> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        dev.parley.api.spi.PromptStage recording = chain -> {
            var t = chain.turn();
            chain.services().recordWithTurn(new AuditEvent("e-" + java.util.UUID.randomUUID(),
                    AuditEvent.Type.POLICY_VIOLATION, t.conversation().id(), t.conversation().organizationId(),
                    t.conversation().workspaceId(), t.caller().userId(), chain.services().clock().instant(),
                    "policy=demo"));
            return chain.proceed(t);
        };
        ScriptedModel failOnRequest = ScriptedModel.builder().replyWith(r -> {
            if (r.messages().get(r.messages().size() - 1).text().equals("fail")) {
                throw new IllegalStateException("upstream down");
            }
            return "ok";
        }).build();
        engine = freshEngine(failOnRequest).steeringResolver(steering).eventSink(published::add)
                .pipeline(dev.parley.api.PromptPipeline.defaults().insertBefore(ContextStage.class, recording)).build();
        Conversation c = create(NewConversation.inWorkspace(WS));

        c.send(Prompt.text("hello").build());
        assertThatThrownBy(() -> c.send(Prompt.text("fail").build())).isInstanceOf(ModelUnavailableException.class);

        // One violation: the stored turn's. The failed turn's was dropped with it; its failure is recorded apart.
        assertThat(store.events(c.id())).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.POLICY_VIOLATION, AuditEvent.Type.TURN_FAILED);
        assertThat(published).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.POLICY_VIOLATION, AuditEvent.Type.TURN_FAILED);
        // Outside a turn there is no commit to join.
        assertThatThrownBy(() -> new dev.parley.api.values.EngineServices() {
            public dev.parley.api.spi.ConversationStore store() { return null; }
            public java.time.Clock clock() { return null; }
            public String newId() { return null; }
            public dev.parley.api.spi.ModelProvider model(String n, ConversationInfo i, String f) { return null; }
            public dev.parley.api.spi.TokenCounter tokenCounter(String n) { return null; }
            public int contextWindow(String n, ConversationInfo i) { return 0; }
            public SteeringResolver steeringResolver() { return null; }
            public void publish(AuditEvent e) { }
            public dev.parley.api.Timeouts timeouts() { return null; }
        }.recordWithTurn(store.events(c.id()).get(0))).isInstanceOf(IllegalStateException.class);
    }
}
