package dev.parley.core;

import static dev.parley.core.AccessTest.Operation.CANCEL_STREAM;
import static dev.parley.core.AccessTest.Operation.CREATE;
import static dev.parley.core.AccessTest.Operation.DELETE;
import static dev.parley.core.AccessTest.Operation.GET;
import static dev.parley.core.AccessTest.Operation.INFO;
import static dev.parley.core.AccessTest.Operation.LIST;
import static dev.parley.core.AccessTest.Operation.MESSAGES;
import static dev.parley.core.AccessTest.Operation.SEND;
import static dev.parley.core.AccessTest.Operation.UPDATE;
import static dev.parley.core.AccessTest.Outcome.ALLOWED;
import static dev.parley.core.AccessTest.Outcome.FORBIDDEN;
import static dev.parley.core.AccessTest.Outcome.HIDDEN;
import static dev.parley.core.AccessTest.Outcome.LISTED;
import static dev.parley.core.AccessTest.Outcome.NOT_FOUND;
import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.api.AccessDeniedException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationInfo;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.ConversationPatch;
import dev.parley.api.ConversationQuery;
import dev.parley.api.Conversations;
import dev.parley.api.ErrorCode;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.RepositoryNotFoundException;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ScopeDirectory.RepositoryScope;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ConversationFilter;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

/**
 * Who may do what with a conversation, as the rules of {@link Caller} state them, checked for every role and every
 * operation. One conversation is created in {@link EngineFixture#WS} by its owner, who has sent one turn; each
 * row then acts on it as one role. A refused operation must leave the store exactly as it was.
 */
public class AccessTest {
    static final String OTHER_ORG = "org-2";
    static final String OTHER_WS = "ws-2";

    /** The callers of the table, all seen against a conversation that "owner" created in {@link EngineFixture#WS}. */
    enum Role {
        OWNER("the owner", Caller.user("owner", ORG).member(WS).build()),
        OTHER_MEMBER("another member of the workspace", Caller.user("member", ORG).member(WS).build()),
        WORKSPACE_ADMIN("an admin of the workspace", Caller.user("ws-admin", ORG).admin(WS).build()),
        OTHER_WORKSPACE_ADMIN("an admin of another workspace only",
                Caller.user("other-admin", ORG).admin(OTHER_WS).build()),
        ORGANIZATION_ADMIN("an organization admin", Caller.user("org-admin", ORG).organizationAdmin().build()),
        OTHER_ORGANIZATION("a user of another organization", Caller.user("outsider", OTHER_ORG).member("ws-9").build()),
        NO_MEMBERSHIP("a user of the organization without any membership", Caller.user("loner", ORG).build()),
        /** Sees the conversation because they own it, but may no longer use its workspace. */
        OWNER_WITHOUT_MEMBERSHIP("the owner after leaving the workspace", Caller.user("owner", ORG).build());

        final String description;
        final Caller caller;

        Role(String description, Caller caller) {
            this.description = description;
            this.caller = caller;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    enum Operation {
        CREATE("creating a conversation in the workspace"),
        GET("get"),
        INFO("info"),
        SEND("send"),
        MESSAGES("messages"),
        UPDATE("update"),
        DELETE("delete"),
        LIST("listing all conversations"),
        CANCEL_STREAM("cancelStream");

        final String description;

        Operation(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    enum Outcome {
        ALLOWED("works"),
        FORBIDDEN("is refused with FORBIDDEN"),
        NOT_FOUND("is refused with NOT_FOUND"),
        LISTED("shows the conversation"),
        HIDDEN("does not show the conversation");

        final String description;

        Outcome(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** The operations, in the column order of {@link #TABLE}. */
    private static final List<Operation> COLUMNS =
            List.of(CREATE, GET, INFO, SEND, MESSAGES, UPDATE, DELETE, LIST, CANCEL_STREAM);

    /** The whole access table: one row per role, one column per operation. */
    private static final Map<Role, List<Outcome>> TABLE = Map.of(
            //                                     CREATE     GET        INFO       SEND       MESSAGES   UPDATE     DELETE     LIST    CANCEL_STREAM
            Role.OWNER, List.of(                   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   LISTED, ALLOWED),
            Role.OTHER_MEMBER, List.of(            ALLOWED,   FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, FORBIDDEN),
            Role.WORKSPACE_ADMIN, List.of(         ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   LISTED, ALLOWED),
            Role.OTHER_WORKSPACE_ADMIN, List.of(   FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, FORBIDDEN),
            Role.ORGANIZATION_ADMIN, List.of(      ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   LISTED, ALLOWED),
            Role.OTHER_ORGANIZATION, List.of(      FORBIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, HIDDEN, NOT_FOUND),
            Role.NO_MEMBERSHIP, List.of(           FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, HIDDEN, FORBIDDEN),
            Role.OWNER_WITHOUT_MEMBERSHIP, List.of(FORBIDDEN, ALLOWED,   ALLOWED,   FORBIDDEN, ALLOWED,   ALLOWED,   ALLOWED,   LISTED, ALLOWED));

    private static final ScopeDirectory DIRECTORY = ScopeDirectory.of(Map.of(
            "repo-1", new RepositoryScope("repo-1", ORG, WS),
            "repo-orphan", new RepositoryScope("repo-orphan", ORG, null),
            "repo-foreign", new RepositoryScope("repo-foreign", OTHER_ORG, "ws-9")));

    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private final ConversationStore store = newStore();
    private final ScriptedModel model = ScriptedModel.echo();
    private final List<AuditEvent> published = new CopyOnWriteArrayList<>();
    private ConversationEngine engine;
    private String conversationId;

    @BeforeEach
    void createTheOwnersConversationWithOneTurn() {
        engine = EngineFixture.builder(model, store).scopeDirectory(DIRECTORY).eventSink(published::add).build();
        Conversation c = engine.as(Role.OWNER.caller).create(NewConversation.inWorkspace(WS).personality("Friendly").build());
        c.send(Prompt.text("first question").build());
        conversationId = c.id();
    }

    @AfterEach
    void closeEngine() {
        engine.close();
    }

    static Stream<Arguments> table() {
        return Arrays.stream(Role.values()).flatMap(role -> {
            List<Outcome> row = TABLE.get(role);
            assertThat(row).as("row of %s", role).hasSize(COLUMNS.size());
            return COLUMNS.stream().map(op -> Arguments.of(role, op, row.get(COLUMNS.indexOf(op))));
        });
    }

    @ParameterizedTest(name = "{0}: {1} {2}")
    @MethodSource("table")
    void everyRoleMayDoExactlyWhatTheAccessRulesAllow(Role role, Operation op, Outcome expected) {
        Conversations as = engine.as(role.caller);
        StoreSnapshot before = snapshot();
        switch (expected) {
            case ALLOWED -> assertWorks(role, op, as);
            case LISTED -> assertThat(listedIds(as)).contains(conversationId);
            case HIDDEN -> assertThat(listedIds(as)).doesNotContain(conversationId);
            case FORBIDDEN -> assertThatThrownBy(() -> perform(op, as))
                    .isInstanceOfSatisfying(AccessDeniedException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN);
                        assertThat(e.userId()).isEqualTo(role.caller.userId());
                    });
            case NOT_FOUND -> assertThatThrownBy(() -> perform(op, as))
                    .isInstanceOfSatisfying(ConversationNotFoundException.class, e -> {
                        assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                        assertThat(e.conversationId()).isEqualTo(conversationId);
                    });
        }
        if (expected != ALLOWED) {
            assertThat(snapshot()).as("the store after a refused or read-only call").isEqualTo(before);
        }
    }

    /**
     * The public API reaches an existing conversation only through {@code get}, so the table above refuses most
     * operations there. Each handle method must check again on its own: this binds a handle to a caller who may
     * not see the conversation, as no public path can, and expects every method to refuse.
     */
    static Stream<Arguments> refusedHandleCalls() {
        return Stream.of(Role.OTHER_MEMBER, Role.OTHER_WORKSPACE_ADMIN, Role.NO_MEMBERSHIP, Role.OTHER_ORGANIZATION)
                .flatMap(role -> Stream.of(INFO, SEND, MESSAGES, UPDATE, DELETE, CANCEL_STREAM)
                        .map(op -> Arguments.of(role, op, TABLE.get(role).get(COLUMNS.indexOf(op)))));
    }

    @ParameterizedTest(name = "a handle bound to {0}: {1} {2} on its own")
    @MethodSource("refusedHandleCalls")
    void everyHandleMethodChecksAccessItself(Role role, Operation op, Outcome expected) throws Exception {
        Conversation forged = handleFor(role.caller, conversationId);
        StoreSnapshot before = snapshot();
        assertThatThrownBy(() -> perform(op, forged))
                .isInstanceOf(expected == FORBIDDEN ? AccessDeniedException.class : ConversationNotFoundException.class)
                .extracting(e -> ((ParleyException) e).code())
                .isEqualTo(expected == FORBIDDEN ? ErrorCode.FORBIDDEN : ErrorCode.NOT_FOUND);
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void anAdminOfAnotherOrganizationWithTheOwnersUserIdAndAWorkspaceOfTheSameIdFindsNothing() {
        Conversations twin = engine.as(Caller.user("owner", OTHER_ORG).organizationAdmin().admin(WS).build());
        StoreSnapshot before = snapshot();

        for (Operation op : List.of(GET, INFO, SEND, MESSAGES, UPDATE, DELETE, CANCEL_STREAM)) {
            assertThatThrownBy(() -> perform(op, twin), "%s", op)
                    .isInstanceOf(ConversationNotFoundException.class);
        }
        assertThat(twin.list(ConversationQuery.all(PageRequest.first())).items()).isEmpty();
        assertThat(twin.list(ConversationQuery.inWorkspace(WS, PageRequest.first())).items()).isEmpty();
        assertThat(snapshot()).isEqualTo(before);
    }

    /**
     * Send needs workspace membership as well as visibility, whatever the message id. Fails today: the default
     * pipeline runs IdempotencyStage before AccessStage, so a stored reply is replayed to a caller who may see the
     * conversation but may not send in it, without reaching the access check.
     */
    @Test
    void anOwnerWhoLeftTheWorkspaceCannotSendEvenAMessageIdThatWasAlreadyAnswered() {
        Conversation asOwner = engine.as(Role.OWNER.caller).get(conversationId);
        asOwner.send(Prompt.text("kept question").id("msg-kept").build());
        int calls = model.callCount();
        Conversation asFormerMember = engine.as(Role.OWNER_WITHOUT_MEMBERSHIP.caller).get(conversationId);

        assertThatThrownBy(() -> asFormerMember.send(Prompt.text("kept question").id("msg-kept").build()),
                "a resend of an answered message id by a caller who is no member of %s", WS)
                .isInstanceOf(AccessDeniedException.class)
                .extracting(e -> ((AccessDeniedException) e).code()).isEqualTo(ErrorCode.FORBIDDEN);
        assertThat(model.callCount()).isEqualTo(calls);
    }

    @Test
    void aRepositoryConversationInheritsWorkspaceAndOrganizationFromTheScopeDirectory() {
        Conversation c = engine.as(Role.OTHER_MEMBER.caller).create(NewConversation.inRepository("repo-1").build());

        ConversationInfo info = c.info();
        assertThat(info.repositoryId()).isEqualTo("repo-1");
        assertThat(info.workspaceId()).isEqualTo(WS);
        assertThat(info.organizationId()).isEqualTo(ORG);
        assertThat(info.ownerId()).isEqualTo("member");
        assertThat(engine.as(Role.WORKSPACE_ADMIN.caller).list(ConversationQuery.inRepository("repo-1", PageRequest.first()))
                .items()).extracting(ConversationInfo::id).containsExactly(c.id());
    }

    @Test
    void aRepositoryConversationNeedsMembershipOfTheRepositorysWorkspace() {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> engine.as(Role.OTHER_WORKSPACE_ADMIN.caller).create(NewConversation.inRepository("repo-1").build()))
                .isInstanceOfSatisfying(AccessDeniedException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.FORBIDDEN));
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void anUnknownRepositoryIsNotFound() {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> engine.as(Role.ORGANIZATION_ADMIN.caller).create(NewConversation.inRepository("repo-unknown").build()))
                .isInstanceOfSatisfying(RepositoryNotFoundException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.repositoryId()).isEqualTo("repo-unknown");
                });
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aRepositoryOfNoWorkspaceIsAnInvalidRequestNamingRepositoryId() {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> engine.as(Role.ORGANIZATION_ADMIN.caller).create(NewConversation.inRepository("repo-orphan").build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                    assertThat(e.field()).isEqualTo("repositoryId");
                });
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aRepositoryOfAnotherOrganizationIsNotFoundEvenForAnOrganizationAdmin() {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> engine.as(Role.ORGANIZATION_ADMIN.caller).create(NewConversation.inRepository("repo-foreign").build()))
                .isInstanceOfSatisfying(RepositoryNotFoundException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.repositoryId()).isEqualTo("repo-foreign");
                });
        assertThat(snapshot()).isEqualTo(before);
    }

    @Test
    void aRepositoryOfAnotherOrganizationServesTheMembersOfThatOrganization() {
        Conversation c = engine.as(Role.OTHER_ORGANIZATION.caller).create(NewConversation.inRepository("repo-foreign").build());

        assertThat(c.info().organizationId()).isEqualTo(OTHER_ORG);
        assertThat(c.info().workspaceId()).isEqualTo("ws-9");
    }

    static Stream<Arguments> readsAndWritesAfterDeletion() {
        return Stream.of(Role.OWNER, Role.WORKSPACE_ADMIN, Role.ORGANIZATION_ADMIN)
                .flatMap(role -> Stream.of(GET, INFO, SEND, MESSAGES, UPDATE, DELETE, CANCEL_STREAM)
                        .map(op -> Arguments.of(role, op)));
    }

    @ParameterizedTest(name = "after deletion, {1} by {0} is NOT_FOUND")
    @MethodSource("readsAndWritesAfterDeletion")
    void aSoftDeletedConversationIsNotFoundForEveryReadAndWrite(Role role, Operation op) {
        Conversation handle = engine.as(role.caller).get(conversationId);
        engine.as(Role.OWNER.caller).get(conversationId).delete();
        StoreSnapshot before = snapshot();

        Conversations as = engine.as(role.caller);
        assertThatThrownBy(() -> {
            Object unused = op == GET ? perform(op, as) : perform(op, handle);
        })
                .isInstanceOfSatisfying(ConversationNotFoundException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.conversationId()).isEqualTo(conversationId);
                });
        assertThat(snapshot()).isEqualTo(before);
    }

    @ParameterizedTest(name = "after deletion, listing as {0} does not show the conversation")
    @EnumSource(Role.class)
    void aSoftDeletedConversationIsAbsentFromEveryList(Role role) {
        engine.as(Role.OWNER.caller).get(conversationId).delete();

        assertThat(listedIds(engine.as(role.caller))).doesNotContain(conversationId);
        assertThat(engine.as(role.caller).list(ConversationQuery.inWorkspace(WS, PageRequest.first())).items())
                .extracting(ConversationInfo::id).doesNotContain(conversationId);
    }

    @Test
    void aSoftDeletedConversationHidesItsMessagesEvenFromTheStoreButKeepsItsAuditTrail() {
        engine.as(Role.OWNER.caller).get(conversationId).delete();

        assertThat(store.messages(conversationId, PageRequest.first()).items()).isEmpty();
        assertThat(store.events(conversationId)).extracting(AuditEvent::type)
                .containsExactly(AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.CONVERSATION_DELETED);
    }

    @Test
    void createUpdateAndDeleteEachAppendAnAuditEventNamingTheirActor() {
        Conversation c = engine.as(Role.OTHER_MEMBER.caller).create(NewConversation.inWorkspace(WS).build());
        engine.as(Role.WORKSPACE_ADMIN.caller).get(c.id()).update(ConversationPatch.builder().personality("Terse").build());
        engine.as(Role.ORGANIZATION_ADMIN.caller).get(c.id()).delete();

        List<AuditEvent> events = store.events(c.id());
        assertThat(events).extracting(AuditEvent::type).containsExactly(
                AuditEvent.Type.CONVERSATION_CREATED, AuditEvent.Type.CONVERSATION_UPDATED,
                AuditEvent.Type.CONVERSATION_DELETED);
        assertThat(events).extracting(AuditEvent::actorId).containsExactly("member", "ws-admin", "org-admin");
        assertThat(events).allSatisfy(e -> {
            assertThat(e.conversationId()).isEqualTo(c.id());
            assertThat(e.organizationId()).isEqualTo(ORG);
            assertThat(e.workspaceId()).isEqualTo(WS);
        });
        assertThat(events.get(1).detail()).isEqualTo("fields=personality");
        assertThat(events).extracting(AuditEvent::id).doesNotHaveDuplicates();
        assertThat(published).filteredOn(e -> e.conversationId().equals(c.id())).containsExactlyElementsOf(events);
    }

    @Test
    void refusedCallsAppendNoAuditEvent() {
        List<AuditEvent> before = store.events(conversationId);

        for (Role role : List.of(Role.OTHER_MEMBER, Role.OTHER_WORKSPACE_ADMIN, Role.NO_MEMBERSHIP, Role.OTHER_ORGANIZATION)) {
            for (Operation op : List.of(SEND, UPDATE, DELETE)) {
                assertThatThrownBy(() -> perform(op, engine.as(role.caller))).as("%s by %s", op, role)
                        .isInstanceOf(ParleyException.class);
            }
        }
        assertThatThrownBy(() -> perform(SEND, engine.as(Role.OWNER_WITHOUT_MEMBERSHIP.caller)))
                .isInstanceOf(AccessDeniedException.class);

        assertThat(store.events(conversationId)).isEqualTo(before);
        assertThat(published).hasSize(before.size());
    }

    // ---------------------------------------------------------------------------------------------------------
    // The operations and what "works" means for each

    private Object perform(Operation op, Conversations as) {
        return switch (op) {
            case CREATE -> as.create(NewConversation.inWorkspace(WS).build());
            case LIST -> as.list(ConversationQuery.all(PageRequest.first()));
            case GET -> as.get(conversationId);
            default -> perform(op, as.get(conversationId));
        };
    }

    private static Object perform(Operation op, Conversation c) {
        switch (op) {
            case INFO:
                return c.info();
            case SEND:
                return c.send(Prompt.text("another question").build());
            case MESSAGES:
                return c.messages(PageRequest.first());
            case UPDATE:
                return c.update(ConversationPatch.builder().personality("Formal").build());
            case DELETE:
                c.delete();
                return null;
            case CANCEL_STREAM:
                c.cancelStream();
                return null;
            default:
                throw new IllegalArgumentException(op + " is no operation of a handle");
        }
    }

    private void assertWorks(Role role, Operation op, Conversations as) {
        String userId = role.caller.userId();
        StoreSnapshot before = snapshot();
        Object result = perform(op, as);
        switch (op) {
            case CREATE -> {
                ConversationInfo created = ((Conversation) result).info();
                assertThat(created.ownerId()).isEqualTo(userId);
                assertThat(created.organizationId()).isEqualTo(ORG);
                assertThat(created.workspaceId()).isEqualTo(WS);
                assertThat(listedIds(as)).contains(created.id());
                assertThat(store.events(created.id())).singleElement().satisfies(e -> {
                    assertThat(e.type()).isEqualTo(AuditEvent.Type.CONVERSATION_CREATED);
                    assertThat(e.actorId()).isEqualTo(userId);
                });
            }
            case GET -> assertThat(((Conversation) result).id()).isEqualTo(conversationId);
            case INFO -> {
                ConversationInfo info = (ConversationInfo) result;
                assertThat(info.id()).isEqualTo(conversationId);
                assertThat(info.ownerId()).isEqualTo("owner");
                assertThat(info.steering().personality()).isEqualTo("Friendly");
            }
            case SEND -> {
                assertThat(((Reply) result).text()).isEqualTo("echo: another question");
                assertThat(model.callCount()).isEqualTo(before.modelCalls() + 1);
                assertThat(store.messages(conversationId, PageRequest.first()).items()).extracting(Message::text)
                        .containsExactly("first question", "echo: first question", "another question",
                                "echo: another question");
            }
            case MESSAGES -> {
                @SuppressWarnings("unchecked")
                Page<Message> page = (Page<Message>) result;
                assertThat(page.items()).extracting(Message::text)
                        .containsExactly("first question", "echo: first question");
            }
            case UPDATE -> {
                assertThat(((ConversationInfo) result).steering().personality()).isEqualTo("Formal");
                assertThat(store.find(conversationId)).get()
                        .extracting(c -> c.steering().personality()).isEqualTo("Formal");
                assertThat(lastEvent()).satisfies(e -> {
                    assertThat(e.type()).isEqualTo(AuditEvent.Type.CONVERSATION_UPDATED);
                    assertThat(e.actorId()).isEqualTo(userId);
                });
            }
            case DELETE -> {
                assertThat(store.find(conversationId)).isEmpty();
                assertThatThrownBy(() -> engine.as(Role.OWNER.caller).get(conversationId))
                        .isInstanceOf(ConversationNotFoundException.class);
                assertThat(lastEvent()).satisfies(e -> {
                    assertThat(e.type()).isEqualTo(AuditEvent.Type.CONVERSATION_DELETED);
                    assertThat(e.actorId()).isEqualTo(userId);
                });
            }
            case CANCEL_STREAM, LIST -> {
                // Nothing to return: "works" means no error and, below, no change.
            }
        }
        if (op == GET || op == INFO || op == MESSAGES || op == CANCEL_STREAM || op == LIST) {
            assertThat(snapshot()).as("the store after a read").isEqualTo(before);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers

    private List<String> listedIds(Conversations as) {
        return as.list(ConversationQuery.all(PageRequest.first())).items().stream().map(ConversationInfo::id).toList();
    }

    private AuditEvent lastEvent() {
        List<AuditEvent> events = store.events(conversationId);
        return events.get(events.size() - 1);
    }

    /** A handle for {@code caller}, bound directly as the engine binds the handles it gives out. */
    private Conversation handleFor(Caller caller, String id) throws Exception {
        Class<?> handle = Class.forName("dev.parley.core.internal.ConversationHandle");
        Constructor<?> constructor = handle.getDeclaredConstructor(String.class, Caller.class, engine.getClass());
        constructor.setAccessible(true);
        return (Conversation) constructor.newInstance(id, caller, engine);
    }

    /** Everything the store holds for both organizations, read through the store itself, and the model's calls. */
    record StoreSnapshot(List<ConversationInfo> conversations, Map<String, List<Message>> messages,
                         Map<String, List<AuditEvent>> events, int modelCalls) {
    }

    private StoreSnapshot snapshot() {
        List<ConversationInfo> all = new ArrayList<>();
        for (String org : List.of(ORG, OTHER_ORG)) {
            all.addAll(store.list(new ConversationFilter(org, true, Set.of(), "nobody", null, null),
                    PageRequest.of(1, PageRequest.MAX_SIZE)).items());
        }
        Set<String> ids = new TreeSet<>();
        all.forEach(c -> ids.add(c.id()));
        ids.add(conversationId); // also once it is deleted and no list shows it
        Map<String, List<Message>> messages = new HashMap<>();
        Map<String, List<AuditEvent>> events = new HashMap<>();
        for (String id : ids) {
            messages.put(id, store.messages(id, PageRequest.of(1, PageRequest.MAX_SIZE)).items());
            events.put(id, store.events(id));
        }
        return new StoreSnapshot(List.copyOf(all), Map.copyOf(messages), Map.copyOf(events), model.callCount());
    }
}
