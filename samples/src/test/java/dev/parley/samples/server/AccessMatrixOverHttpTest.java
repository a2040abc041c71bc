package dev.parley.samples.server;

import static dev.parley.samples.server.AccessMatrixOverHttpTest.Outcome.ALLOWED;
import static dev.parley.samples.server.AccessMatrixOverHttpTest.Outcome.FORBIDDEN;
import static dev.parley.samples.server.AccessMatrixOverHttpTest.Outcome.HIDDEN;
import static dev.parley.samples.server.AccessMatrixOverHttpTest.Outcome.LISTED;
import static dev.parley.samples.server.AccessMatrixOverHttpTest.Outcome.NOT_FOUND;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.jspecify.annotations.Nullable;

/**
 * The access rules of {@link dev.parley.api.Caller}, checked cell by cell through each of the three HTTP APIs of
 * the sample server, on a real server on a loopback port called with java.net.http: the same rules that
 * {@code AccessTest} in engine-core checks through the Java API.
 *
 * <p>Every cell starts from a fresh conversation that its owner ({@link Role#OWNER}, a member of the workspace
 * {@value #HOME}) created through the API under test and sent one turn in. One role then calls one operation on it,
 * and the cell's expected outcome is read from an explicit table written from the rules, never from what the server
 * answers:
 * <ul>
 *   <li>an organization admin reaches every conversation of the organization, a workspace admin every one of the
 *       workspaces they administer, anyone else only their own;</li>
 *   <li>creating and sending (prompting, streaming) need a role in the conversation's workspace; access is checked
 *       before idempotency, so replaying the owner's message id gets a refused caller no reply either;</li>
 *   <li>a caller of another organization learns nothing: a conversation, a repository or a board of another
 *       organization is not found (404); a workspace of another organization is one the token has no claim on,
 *       the same 403 as for a workspace that does not exist;</li>
 *   <li>a conversation the caller may not reach in their own organization is forbidden (403); the violations of a
 *       conversation are its compliance record, open to admins only;</li>
 *   <li>a soft-deleted conversation is not found by anyone and is in no list.</li>
 * </ul>
 *
 * <p>The tables: {@link #REPOSITORY_TABLE} for the repository-scoped API ({@link RepositoryApi}),
 * {@link #WORKSPACE_TABLE} for the workspace-scoped API ({@link WorkspaceApi}) in two scopes (called through the
 * path of the conversation's workspace, and through the path of another workspace of the caller's organization),
 * and {@link #ASSISTANT_TABLE} for the assistant-scoped API ({@link AssistantApi}), plus one table per API of what
 * the owner and the admins get once the conversation is deleted. An {@link Outcome#ALLOWED} cell checks that the
 * operation did its work; every other cell checks the status, the API's error shape and that nothing changed: the
 * number of conversations of both organizations, the conversation with its totals and steering, its messages, and
 * the model's call count, all read over HTTP as the organizations' admins after the call. A refused cancel must leave
 * the owner's running stream to complete. The workspace- and assistant-scoped APIs delete nothing, so their
 * conversations are deleted through the repository-scoped {@code DELETE}: one server serves the three APIs on one
 * engine.
 *
 * <p>The one role of {@code AccessTest} not here is the owner who has left the workspace: the server's users are
 * fixed by its configuration, so a user cannot lose a role while their conversation exists.
 */
class AccessMatrixOverHttpTest {
    static final String CONFIG = "/dev/parley/samples/server/access-config.json";
    /** The workspace of every conversation the cells act on. */
    static final String HOME = "support";
    static final String REPOSITORY = "handbook";
    static final String BOARD = "helpdesk";
    static final String CHAT = "welcome";
    /** Words of the slow model's reply, one every {@link #SLOW_DELAY}: long enough to cancel the stream. */
    static final int SLOW_WORDS = 20;
    static final Duration SLOW_DELAY = Duration.ofMillis(100);

    @TempDir
    static Path data;

    static TestServer http;
    static ScriptedModel demo;
    static ScriptedModel slow;
    private static final AtomicInteger IDS = new AtomicInteger();

    /** The callers of the tables, each a user of the test configuration; the owner's workspace is {@value #HOME}. */
    enum Role {
        OWNER("the owner", "alice", "acme", "sales"),
        OTHER_MEMBER("another member of the workspace", "carol", "acme", "sales"),
        WORKSPACE_ADMIN("an admin of the workspace", "walter", "acme", "sales"),
        ORGANIZATION_ADMIN("an organization admin", "olivia", "acme", "sales"),
        OTHER_WORKSPACE_ADMIN("an admin of another workspace only", "sam", "acme", "sales"),
        OTHER_ORGANIZATION("a member of another organization", "gina", "globex", "lab"),
        OTHER_ORGANIZATION_ADMIN("an admin of another organization", "gordon", "globex", "lab"),
        NO_MEMBERSHIP("a user of the organization without any membership", "nora", "acme", "sales");

        final String description;
        final String userId;
        final String organizationId;
        /** The workspace whose path the {@link Scope#ELSEWHERE} cells use: another one of the caller's organization. */
        final String elsewhere;

        Role(String description, String userId, String organizationId, String elsewhere) {
            this.description = description;
            this.userId = userId;
            this.organizationId = organizationId;
            this.elsewhere = elsewhere;
        }

        String token() {
            return "t-" + userId;
        }

        String apiKey() {
            return "k-" + userId;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** What a cell expects. */
    enum Outcome {
        ALLOWED("works"),
        FORBIDDEN("is refused with 403"),
        NOT_FOUND("is refused with 404"),
        LISTED("shows the conversation"),
        HIDDEN("does not show the conversation");

        final String description;

        Outcome(String description) {
            this.description = description;
        }

        /** The status of a refusal, or of a list. */
        int status() {
            return switch (this) {
                case FORBIDDEN -> 403;
                case NOT_FOUND -> 404;
                case LISTED, HIDDEN -> 200;
                case ALLOWED -> throw new IllegalStateException("the status of a success depends on the operation");
            };
        }

        @Override
        public String toString() {
            return description;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // The tables

    /** The operations of the repository-scoped API, in the column order of {@link #REPOSITORY_TABLE}. */
    enum RepositoryOperation {
        CREATE("POST /conversation {repoId}"),
        LIST("GET /conversation"),
        LIST_IN_WORKSPACE("GET /conversation?workspaceId="),
        LIST_IN_REPOSITORY("GET /conversation?repoId="),
        PROMPT("POST /conversation/{id}/prompt"),
        PROMPT_REPLAY("POST /conversation/{id}/prompt replaying the owner's Idempotency-Key"),
        MESSAGES("GET /conversation/{id}/messages"),
        VIOLATIONS("GET /conversation/{id}/violations"),
        DELETE("DELETE /conversation/{id}");

        final String description;

        RepositoryOperation(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    static final Map<Role, List<Outcome>> REPOSITORY_TABLE = table(RepositoryOperation.class, Map.of(
            //                                     CREATE     LIST    IN_WS   IN_REPO PROMPT     REPLAY     MESSAGES   VIOLATIONS DELETE
            Role.OWNER, List.of(                   ALLOWED,   LISTED, LISTED, LISTED, ALLOWED,   ALLOWED,   ALLOWED,   FORBIDDEN, ALLOWED),
            Role.OTHER_MEMBER, List.of(            ALLOWED,   HIDDEN, HIDDEN, HIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.WORKSPACE_ADMIN, List.of(         ALLOWED,   LISTED, LISTED, LISTED, ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED),
            Role.ORGANIZATION_ADMIN, List.of(      ALLOWED,   LISTED, LISTED, LISTED, ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED),
            Role.OTHER_WORKSPACE_ADMIN, List.of(   FORBIDDEN, HIDDEN, HIDDEN, HIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.OTHER_ORGANIZATION, List.of(      NOT_FOUND, HIDDEN, HIDDEN, HIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.OTHER_ORGANIZATION_ADMIN, List.of(NOT_FOUND, HIDDEN, HIDDEN, HIDDEN, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.NO_MEMBERSHIP, List.of(           FORBIDDEN, HIDDEN, HIDDEN, HIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)));

    /** The operations of the workspace-scoped API, in the column order of {@link #WORKSPACE_TABLE}. */
    enum WorkspaceOperation {
        CREATE("POST .../conversations"),
        LIST("GET .../conversations"),
        GET("GET .../conversations/{id}"),
        PATCH("PATCH .../conversations/{id}"),
        SEND("POST .../conversations/{id}/messages"),
        SEND_REPLAY("POST .../conversations/{id}/messages replaying the owner's message id"),
        MESSAGES("GET .../conversations/{id}/messages"),
        STREAM("POST .../conversations/{id}/message-streams"),
        CANCEL("DELETE .../conversations/{id}/message-streams");

        final String description;

        WorkspaceOperation(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /** Which workspace's path a workspace-scoped call goes through. */
    enum Scope {
        /** {@code /api/v1/workspaces/support/...}: the conversation's own workspace. */
        HOME("through the conversation's workspace"),
        /** {@code /api/v1/workspaces/{Role#elsewhere}/...}: another workspace of the caller's organization. */
        ELSEWHERE("through another workspace");

        final String description;

        Scope(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /**
     * The workspace-scoped API: a call needs a claim on the path's workspace (a role in it, or organization admin of
     * its organization), else 403 whatever it asks; through a workspace that is not the conversation's, the
     * conversation is not found there (404).
     */
    static final Map<Scope, Map<Role, List<Outcome>>> WORKSPACE_TABLE = Map.of(
            Scope.HOME, table(WorkspaceOperation.class, Map.of(
            //                                     CREATE     LIST       GET        PATCH      SEND       REPLAY     MESSAGES   STREAM     CANCEL
            Role.OWNER, List.of(                   ALLOWED,   LISTED,    ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED),
            Role.OTHER_MEMBER, List.of(            ALLOWED,   HIDDEN,    FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.WORKSPACE_ADMIN, List.of(         ALLOWED,   LISTED,    ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED),
            Role.ORGANIZATION_ADMIN, List.of(      ALLOWED,   LISTED,    ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED,   ALLOWED),
            Role.OTHER_WORKSPACE_ADMIN, List.of(   FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.OTHER_ORGANIZATION, List.of(      FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.OTHER_ORGANIZATION_ADMIN, List.of(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.NO_MEMBERSHIP, List.of(           FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN))),
            Scope.ELSEWHERE, table(WorkspaceOperation.class, Map.of(
            //                                     CREATE     LIST       GET        PATCH      SEND       REPLAY     MESSAGES   STREAM     CANCEL
            Role.OWNER, List.of(                   FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.OTHER_MEMBER, List.of(            FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.WORKSPACE_ADMIN, List.of(         FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.ORGANIZATION_ADMIN, List.of(      ALLOWED,   HIDDEN,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.OTHER_WORKSPACE_ADMIN, List.of(   ALLOWED,   HIDDEN,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.OTHER_ORGANIZATION, List.of(      ALLOWED,   HIDDEN,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.OTHER_ORGANIZATION_ADMIN, List.of(ALLOWED,   HIDDEN,    NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.NO_MEMBERSHIP, List.of(           FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN))));

    /** The operations of the assistant-scoped API, in the column order of {@link #ASSISTANT_TABLE}. */
    enum AssistantOperation {
        START("a first prompt to a new id on the board's chat"),
        PROMPT("a prompt to the owner's id"),
        STREAM("a streaming prompt to the owner's id");

        final String description;

        AssistantOperation(String description) {
            this.description = description;
        }

        @Override
        public String toString() {
            return description;
        }
    }

    /**
     * The assistant-scoped API: the board must be of the caller's organization (else 404) and its workspace one the
     * caller may use (else 403); the owner's id then reaches the owner's conversation as the engine allows.
     */
    static final Map<Role, List<Outcome>> ASSISTANT_TABLE = table(AssistantOperation.class, Map.of(
            //                                     START      PROMPT     STREAM
            Role.OWNER, List.of(                   ALLOWED,   ALLOWED,   ALLOWED),
            Role.OTHER_MEMBER, List.of(            ALLOWED,   FORBIDDEN, FORBIDDEN),
            Role.WORKSPACE_ADMIN, List.of(         ALLOWED,   ALLOWED,   ALLOWED),
            Role.ORGANIZATION_ADMIN, List.of(      ALLOWED,   ALLOWED,   ALLOWED),
            Role.OTHER_WORKSPACE_ADMIN, List.of(   FORBIDDEN, FORBIDDEN, FORBIDDEN),
            Role.OTHER_ORGANIZATION, List.of(      NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.OTHER_ORGANIZATION_ADMIN, List.of(NOT_FOUND, NOT_FOUND, NOT_FOUND),
            Role.NO_MEMBERSHIP, List.of(           FORBIDDEN, FORBIDDEN, FORBIDDEN)));

    /** The roles that reach the conversation before it is deleted: after, none of them finds it. */
    static final List<Role> REACHING = List.of(Role.OWNER, Role.WORKSPACE_ADMIN, Role.ORGANIZATION_ADMIN);

    static final Map<RepositoryOperation, Outcome> REPOSITORY_AFTER_DELETE = Map.of(
            RepositoryOperation.LIST, HIDDEN,
            RepositoryOperation.LIST_IN_WORKSPACE, HIDDEN,
            RepositoryOperation.LIST_IN_REPOSITORY, HIDDEN,
            RepositoryOperation.PROMPT, NOT_FOUND,
            RepositoryOperation.PROMPT_REPLAY, NOT_FOUND,
            RepositoryOperation.MESSAGES, NOT_FOUND,
            RepositoryOperation.VIOLATIONS, NOT_FOUND,
            RepositoryOperation.DELETE, NOT_FOUND);

    static final Map<WorkspaceOperation, Outcome> WORKSPACE_AFTER_DELETE = Map.of(
            WorkspaceOperation.LIST, HIDDEN,
            WorkspaceOperation.GET, NOT_FOUND,
            WorkspaceOperation.PATCH, NOT_FOUND,
            WorkspaceOperation.SEND, NOT_FOUND,
            WorkspaceOperation.SEND_REPLAY, NOT_FOUND,
            WorkspaceOperation.MESSAGES, NOT_FOUND,
            WorkspaceOperation.STREAM, NOT_FOUND,
            WorkspaceOperation.CANCEL, NOT_FOUND);

    static final Map<AssistantOperation, Outcome> ASSISTANT_AFTER_DELETE = Map.of(
            AssistantOperation.PROMPT, NOT_FOUND,
            AssistantOperation.STREAM, NOT_FOUND);

    /** A table whose every row has one outcome per operation of {@code columns}, checked as it is built. */
    private static <O extends Enum<O>> Map<Role, List<Outcome>> table(Class<O> columns, Map<Role, List<Outcome>> rows) {
        assertThat(rows.keySet()).as("the rows of %s", columns.getSimpleName()).containsExactlyInAnyOrder(Role.values());
        rows.forEach((role, row) -> assertThat(row).as("the row of %s in %s", role, columns.getSimpleName())
                .hasSize(columns.getEnumConstants().length));
        return new EnumMap<>(rows);
    }

    private static <O extends Enum<O>> Stream<Arguments> cells(Class<O> columns, Map<Role, List<Outcome>> table) {
        return Arrays.stream(Role.values()).flatMap(role -> Arrays.stream(columns.getEnumConstants())
                .map(op -> Arguments.of(role, op, table.get(role).get(op.ordinal()))));
    }

    static Stream<Arguments> repositoryCells() {
        return cells(RepositoryOperation.class, REPOSITORY_TABLE);
    }

    static Stream<Arguments> workspaceCells() {
        return Arrays.stream(Scope.values()).flatMap(scope -> cells(WorkspaceOperation.class, WORKSPACE_TABLE.get(scope))
                .map(cell -> Arguments.of(scope, cell.get()[0], cell.get()[1], cell.get()[2])));
    }

    static Stream<Arguments> assistantCells() {
        return cells(AssistantOperation.class, ASSISTANT_TABLE);
    }

    private static <O extends Enum<O>> Stream<Arguments> afterDelete(Map<O, Outcome> outcomes) {
        return REACHING.stream().flatMap(role -> outcomes.entrySet().stream()
                .sorted(Map.Entry.comparingByKey())
                .map(e -> Arguments.of(role, e.getKey(), e.getValue())));
    }

    static Stream<Arguments> repositoryCellsAfterDelete() {
        return afterDelete(REPOSITORY_AFTER_DELETE);
    }

    static Stream<Arguments> workspaceCellsAfterDelete() {
        return afterDelete(WORKSPACE_AFTER_DELETE);
    }

    static Stream<Arguments> assistantCellsAfterDelete() {
        return afterDelete(ASSISTANT_AFTER_DELETE);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The server

    @BeforeAll
    static void start() {
        demo = ScriptedModel.echo();
        slow = ScriptedModel.builder()
                .replyWith(r -> IntStream.rangeClosed(1, SLOW_WORDS).mapToObj(i -> "w" + i)
                        .collect(Collectors.joining(" ")))
                .chunkDelay(SLOW_DELAY)
                .build();
        http = TestServer.start(CONFIG, data, Map.of(), s -> s.withModel("demo", demo).withModel("slow", slow));
    }

    @AfterAll
    static void stop() {
        http.close();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The repository-scoped API

    @ParameterizedTest(name = "{0}: {1} {2}")
    @MethodSource("repositoryCells")
    void theRepositoryApiGivesEveryRoleExactlyWhatTheAccessRulesAllow(Role role, RepositoryOperation op,
                                                                      Outcome expected) {
        String id = repositoryConversation();
        Snapshot before = snapshot(id);

        TestServer.Response r = perform(op, role, id);

        switch (expected) {
            case ALLOWED -> repositoryWorked(op, role, id, r, before);
            case LISTED, HIDDEN -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                List<String> ids = new ArrayList<>();
                r.json().get("conversations").forEach(c -> ids.add(c.get("conversationId").asText()));
                if (expected == LISTED) {
                    assertThat(ids).contains(id);
                } else {
                    assertThat(ids).doesNotContain(id);
                }
                assertThat(snapshot(id)).as("the store after a list").isEqualTo(before);
            }
            case FORBIDDEN, NOT_FOUND -> {
                assertRefusedWithSuccessFalse(r, expected);
                assertThat(snapshot(id)).as("the store after a refused call").isEqualTo(before);
            }
        }
    }

    @ParameterizedTest(name = "after deletion, {0}: {1} {2}")
    @MethodSource("repositoryCellsAfterDelete")
    void theRepositoryApiFindsASoftDeletedConversationForNobody(Role role, RepositoryOperation op, Outcome expected) {
        String id = repositoryConversation();
        deleteAsOwner(id);
        Snapshot before = snapshot(id);

        TestServer.Response r = perform(op, role, id);

        if (expected == HIDDEN) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().get("conversations").findValuesAsText("conversationId")).doesNotContain(id);
        } else {
            assertRefusedWithSuccessFalse(r, expected);
        }
        assertThat(snapshot(id)).isEqualTo(before);
    }

    private static TestServer.Response perform(RepositoryOperation op, Role role, String id) {
        String token = role.token();
        return switch (op) {
            case CREATE -> http.post("/conversation", token, "{\"repoId\":\"" + REPOSITORY + "\"}");
            case LIST -> http.get("/conversation?size=100", token);
            case LIST_IN_WORKSPACE -> http.get("/conversation?size=100&workspaceId=" + HOME, token);
            case LIST_IN_REPOSITORY -> http.get("/conversation?size=100&repoId=" + REPOSITORY, token);
            case PROMPT -> http.post("/conversation/" + id + "/prompt", token, "{\"prompt\":\"another question\"}");
            case PROMPT_REPLAY -> http.post("/conversation/" + id + "/prompt", token, "{\"prompt\":\"first question\"}",
                    Map.of(RepositoryApi.IDEMPOTENCY_KEY, firstMessageId(id)));
            case MESSAGES -> http.get("/conversation/" + id + "/messages", token);
            case VIOLATIONS -> http.get("/conversation/" + id + "/violations", token);
            case DELETE -> http.delete("/conversation/" + id, token);
        };
    }

    private static void repositoryWorked(RepositoryOperation op, Role role, String id, TestServer.Response r,
                                         Snapshot before) {
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("success").asBoolean()).isTrue();
        switch (op) {
            case CREATE -> {
                String created = r.json().get("conversationId").asText();
                JsonNode listed = conversationsOf(Role.ORGANIZATION_ADMIN, "/conversation?size=100&repoId=" + REPOSITORY)
                        .stream().filter(c -> c.get("conversationId").asText().equals(created)).findFirst()
                        .orElseThrow(() -> new AssertionError("the created conversation is not listed"));
                assertThat(listed.get("ownerId").asText()).isEqualTo(role.userId);
                assertThat(listed.get("workspaceId").asText()).isEqualTo(HOME);
                assertThat(listed.get("organizationId").asText()).isEqualTo("acme");
                assertThat(snapshot(id)).isEqualTo(before.withConversations(before.acme() + 1, before.globex()));
            }
            case PROMPT -> {
                assertThat(r.json().get("reply").asText()).isEqualTo("echo: another question");
                assertThat(r.json().get("totalTokensIn").asLong()).isGreaterThan(before.conversation().get("tokensIn").asLong());
                Snapshot after = snapshot(id);
                assertThat(texts(after.messages())).containsExactly("first question", "echo: first question",
                        "another question", "echo: another question");
                assertThat(after.conversation().get("tokensIn").asLong())
                        .isEqualTo(r.json().get("totalTokensIn").asLong());
                assertThat(after.modelCalls()).isEqualTo(before.modelCalls() + 1);
            }
            case PROMPT_REPLAY -> {
                assertThat(r.json().get("replayed").asBoolean()).isTrue();
                assertThat(r.json().get("promptId").asText()).isEqualTo(firstMessageId(id));
                assertThat(r.json().get("reply").asText()).isEqualTo("echo: first question");
                assertThat(snapshot(id)).as("the store after a replay").isEqualTo(before);
            }
            case MESSAGES -> {
                assertThat(r.json().get("messages").findValuesAsText("content"))
                        .containsExactly("first question", "echo: first question");
                assertThat(snapshot(id)).as("the store after a read").isEqualTo(before);
            }
            case VIOLATIONS -> {
                assertThat(r.json().get("violations")).isEmpty();
                assertThat(snapshot(id)).as("the store after a read").isEqualTo(before);
            }
            case DELETE -> {
                assertThat(http.get("/conversation/" + id + "/messages", Role.OWNER.token()).status()).isEqualTo(404);
                assertThat(conversationsOf(Role.ORGANIZATION_ADMIN, "/conversation?size=100"))
                        .extracting(c -> c.get("conversationId").asText()).doesNotContain(id);
                assertThat(snapshot(id).acme()).isEqualTo(before.acme() - 1);
            }
            default -> throw new IllegalArgumentException(op + " has no ALLOWED cell");
        }
    }

    /** A conversation on the repository that the owner created and prompted once, through this API. */
    private static String repositoryConversation() {
        String id = http.create(Role.OWNER.token(), REPOSITORY);
        TestServer.Response r = http.post("/conversation/" + id + "/prompt", Role.OWNER.token(),
                "{\"prompt\":\"first question\"}", Map.of(RepositoryApi.IDEMPOTENCY_KEY, firstMessageId(id)));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return id;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The workspace-scoped API

    @ParameterizedTest(name = "{0}, {1}: {2} {3}")
    @MethodSource("workspaceCells")
    void theWorkspaceApiGivesEveryRoleInEveryScopeExactlyWhatTheAccessRulesAllow(
            Scope scope, Role role, WorkspaceOperation op, Outcome expected) throws Exception {
        String id = workspaceConversation();
        String workspace = scope == Scope.HOME ? HOME : role.elsewhere;
        if (op == WorkspaceOperation.CANCEL) {
            cancelWhileTheOwnerStreams(role, workspace, id, expected);
            return;
        }
        Snapshot before = snapshot(id);

        Result r = perform(op, role, workspace, id);

        switch (expected) {
            case ALLOWED -> workspaceWorked(op, role, workspace, id, r, before);
            case LISTED, HIDDEN -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                List<String> ids = r.json().get("data").findValuesAsText("id");
                if (expected == LISTED) {
                    assertThat(ids).contains(id);
                } else {
                    assertThat(ids).doesNotContain(id);
                }
                assertThat(snapshot(id)).as("the store after a list").isEqualTo(before);
            }
            case FORBIDDEN, NOT_FOUND -> {
                assertRefusedWithCode(r, expected);
                assertThat(snapshot(id)).as("the store after a refused call").isEqualTo(before);
            }
        }
    }

    @ParameterizedTest(name = "after deletion, {0}: {1} {2}")
    @MethodSource("workspaceCellsAfterDelete")
    void theWorkspaceApiFindsASoftDeletedConversationForNobody(Role role, WorkspaceOperation op, Outcome expected)
            throws Exception {
        String id = workspaceConversation();
        deleteAsOwner(id);
        Snapshot before = snapshot(id);

        Result r = perform(op, role, HOME, id);

        if (expected == HIDDEN) {
            assertThat(r.status()).as(r.body()).isEqualTo(200);
            assertThat(r.json().get("data").findValuesAsText("id")).doesNotContain(id);
        } else {
            assertRefusedWithCode(r, expected);
        }
        assertThat(snapshot(id)).isEqualTo(before);
    }

    private static String conversationsPath(String workspace) {
        return "/api/v1/workspaces/" + workspace + "/conversations";
    }

    private static Result perform(WorkspaceOperation op, Role role, String workspace, String id) throws Exception {
        String token = role.token();
        String conversations = conversationsPath(workspace);
        String conversation = conversations + "/" + id;
        return switch (op) {
            case CREATE -> Result.of(http.post(conversations, token, "{\"personality\":\"Curious\"}"));
            case LIST -> Result.of(http.get(conversations + "?size=100", token));
            case GET -> Result.of(http.get(conversation, token));
            case PATCH -> Result.of(http.patch(conversation, token, "{\"personality\":\"Formal\"}"));
            case SEND -> Result.of(http.post(conversation + "/messages", token, message("another question")));
            case SEND_REPLAY -> Result.of(http.post(conversation + "/messages", token,
                    message(firstMessageId(id), "first question")));
            case MESSAGES -> Result.of(http.get(conversation + "/messages", token));
            case STREAM -> stream(http.open(conversation + "/message-streams", token, message("another question")));
            case CANCEL -> Result.of(http.delete(conversation + "/message-streams", token));
        };
    }

    private static void workspaceWorked(WorkspaceOperation op, Role role, String workspace, String id, Result r,
                                        Snapshot before) {
        switch (op) {
            case CREATE -> {
                assertThat(r.status()).as(r.body()).isEqualTo(201);
                String created = r.json().get("id").asText();
                assertThat(r.json().get("workspaceId").asText()).isEqualTo(workspace);
                assertThat(r.json().get("personality").asText()).isEqualTo("Curious");
                TestServer.Response mine = http.get(conversationsPath(workspace) + "?size=100", role.token());
                assertThat(mine.json().get("data").findValuesAsText("id")).as("the creator's list").contains(created);
                boolean acme = role.organizationId.equals("acme");
                assertThat(snapshot(id)).isEqualTo(before.withConversations(before.acme() + (acme ? 1 : 0),
                        before.globex() + (acme ? 0 : 1)));
            }
            case GET -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(r.json()).isEqualTo(before.conversation());
                assertThat(snapshot(id)).as("the store after a read").isEqualTo(before);
            }
            case PATCH -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(r.json().get("personality").asText()).isEqualTo("Formal");
                Snapshot after = snapshot(id);
                assertThat(after.conversation().get("personality").asText()).isEqualTo("Formal");
                assertThat(after.messages()).isEqualTo(before.messages());
                assertThat(after.modelCalls()).isEqualTo(before.modelCalls());
            }
            case SEND -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(r.json().get("role").asText()).isEqualTo("assistant");
                assertThat(r.json().get("text").asText()).isEqualTo("echo: another question");
                assertTurnStored(id, before, "COMPLETE");
            }
            case SEND_REPLAY -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(r.json().get("text").asText()).isEqualTo("echo: first question");
                assertThat(r.json().get("id").asText()).isEqualTo(before.messages().get(1).get("id").asText());
                assertThat(snapshot(id)).as("the store after a replay").isEqualTo(before);
            }
            case MESSAGES -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                assertThat(texts(r.json().get("data"))).containsExactly("first question", "echo: first question");
                assertThat(snapshot(id)).as("the store after a read").isEqualTo(before);
            }
            case STREAM -> {
                assertThat(r.status()).as(r.body()).isEqualTo(200);
                SseEvents.Event last = r.events().get(r.events().size() - 1);
                assertThat(last.name()).isEqualTo("final");
                assertThat(last.data().get("text").asText()).isEqualTo("echo: another question");
                assertThat(last.data().get("status").asText()).isEqualTo("COMPLETE");
                assertTurnStored(id, before, "COMPLETE");
            }
            default -> throw new IllegalArgumentException(op + " is checked on its own");
        }
    }

    /**
     * The owner streams a slow reply; once its first delta arrived, {@code role} cancels it through
     * {@code workspace}'s path. Allowed, the stream ends CANCELLED with the partial reply kept; refused, the owner's
     * stream runs to its end, COMPLETE.
     */
    private static void cancelWhileTheOwnerStreams(Role role, String workspace, String id, Outcome expected)
            throws Exception {
        String home = conversationsPath(HOME) + "/" + id;
        assertThat(http.patch(home, Role.OWNER.token(), "{\"modelName\":\"slow\"}").status()).isEqualTo(200);
        Snapshot before = snapshot(id);
        HttpResponse<InputStream> stream = http.open(home + "/message-streams", Role.OWNER.token(),
                message("take your time"));
        assertThat(stream.statusCode()).isEqualTo(200);
        String last;
        try (SseEvents events = new SseEvents(stream.body())) {
            assertThat(events.next().name()).isEqualTo("delta");

            Result cancel = perform(WorkspaceOperation.CANCEL, role, workspace, id);

            if (expected == ALLOWED) {
                assertThat(cancel.status()).as(cancel.body()).isEqualTo(200);
                assertThat(cancel.json().get("conversationId").asText()).isEqualTo(id);
            } else {
                assertRefusedWithCode(cancel, expected);
            }
            List<SseEvents.Event> rest = events.rest();
            SseEvents.Event end = rest.get(rest.size() - 1);
            assertThat(end.name()).isEqualTo("final");
            last = end.data().get("text").asText();
            assertThat(end.data().get("status").asText()).isEqualTo(expected == ALLOWED ? "CANCELLED" : "COMPLETE");
        }
        String full = IntStream.rangeClosed(1, SLOW_WORDS).mapToObj(i -> "w" + i).collect(Collectors.joining(" "));
        if (expected == ALLOWED) {
            assertThat(last).startsWith("w1").doesNotContain("w" + SLOW_WORDS);
        } else {
            assertThat(last).as("the refused cancel left the owner's stream running").isEqualTo(full);
        }
        Snapshot after = snapshot(id);
        assertThat(texts(after.messages())).containsExactly("first question", "echo: first question",
                "take your time", last);
        assertThat(after.messages().get(3).get("status").asText()).isEqualTo(expected == ALLOWED ? "CANCELLED" : "COMPLETE");
        assertThat(after.acme()).isEqualTo(before.acme());
        assertThat(after.globex()).isEqualTo(before.globex());
    }

    /** A conversation of {@value #HOME} that the owner created and sent one message in, through this API. */
    private static String workspaceConversation() {
        TestServer.Response created = http.post(conversationsPath(HOME), Role.OWNER.token(), "{\"personality\":\"Friendly\"}");
        assertThat(created.status()).as(created.body()).isEqualTo(201);
        String id = created.json().get("id").asText();
        TestServer.Response sent = http.post(conversationsPath(HOME) + "/" + id + "/messages", Role.OWNER.token(),
                message(firstMessageId(id), "first question"));
        assertThat(sent.status()).as(sent.body()).isEqualTo(200);
        return id;
    }

    /** A message body of the workspace-scoped API, with an id no other message used. */
    private static String message(String text) {
        return message("m-" + IDS.incrementAndGet(), text);
    }

    private static String message(String id, String text) {
        return "{\"id\":" + TextNode.valueOf(id) + ",\"text\":" + TextNode.valueOf(text) + "}";
    }

    // ---------------------------------------------------------------------------------------------------------
    // The assistant-scoped API

    @ParameterizedTest(name = "{0}: {1} {2}")
    @MethodSource("assistantCells")
    void theAssistantApiGivesEveryRoleExactlyWhatTheAccessRulesAllow(Role role, AssistantOperation op,
                                                                     Outcome expected) throws Exception {
        AssistantConversation fixture = assistantConversation();
        Snapshot before = snapshot(fixture.id());
        Set<String> acmeBefore = acmeConversationIds();

        Result r = perform(op, role, fixture.clientId());

        if (expected != ALLOWED) {
            assertRefusedWithSuccessFalse(r, expected);
            assertThat(snapshot(fixture.id())).as("the store after a refused call").isEqualTo(before);
            return;
        }
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        switch (op) {
            case START -> {
                assertThat(r.json().get("text").asText()).isEqualTo("echo: another question");
                Set<String> started = new HashSet<>(acmeConversationIds());
                started.removeAll(acmeBefore);
                assertThat(started).hasSize(1);
                JsonNode info = http.get(conversationsPath(HOME) + "/" + started.iterator().next(),
                        Role.ORGANIZATION_ADMIN.token()).json();
                assertThat(info.get("workspaceId").asText()).isEqualTo(HOME);
                JsonNode owned = conversationsOf(Role.ORGANIZATION_ADMIN, "/conversation?size=100").stream()
                        .filter(c -> c.get("conversationId").asText().equals(started.iterator().next()))
                        .findFirst().orElseThrow();
                assertThat(owned.get("ownerId").asText()).isEqualTo(role.userId);
                Snapshot after = snapshot(fixture.id());
                assertThat(after).isEqualTo(before.withConversations(before.acme() + 1, before.globex())
                        .withModelCalls(before.modelCalls() + 1));
            }
            case PROMPT -> {
                assertThat(r.json().get("text").asText()).isEqualTo("echo: another question");
                assertTurnStored(fixture.id(), before, "COMPLETE");
            }
            case STREAM -> {
                SseEvents.Event last = r.events().get(r.events().size() - 1);
                assertThat(last.name()).isEqualTo("final");
                assertThat(last.data().get("text").asText()).isEqualTo("echo: another question");
                assertTurnStored(fixture.id(), before, "COMPLETE");
            }
        }
    }

    @ParameterizedTest(name = "after deletion, {0}: {1} {2}")
    @MethodSource("assistantCellsAfterDelete")
    void theAssistantApiFindsASoftDeletedConversationForNobody(Role role, AssistantOperation op, Outcome expected)
            throws Exception {
        AssistantConversation fixture = assistantConversation();
        deleteAsOwner(fixture.id());
        Snapshot before = snapshot(fixture.id());

        Result r = perform(op, role, fixture.clientId());

        assertRefusedWithSuccessFalse(r, expected);
        assertThat(snapshot(fixture.id())).isEqualTo(before);
    }

    private static String assistantPath(String clientId, Role role) {
        return "/api/conversation/" + clientId + "?api_key=" + role.apiKey() + "&board_id=" + BOARD + "&chat_id=" + CHAT;
    }

    private static Result perform(AssistantOperation op, Role role, String ownersClientId) throws Exception {
        String prompt = "{\"prompt\":\"another question\"}";
        return switch (op) {
            case START -> Result.of(http.post(assistantPath("a-" + IDS.incrementAndGet(), role), null, prompt));
            case PROMPT -> Result.of(http.post(assistantPath(ownersClientId, role), null, prompt));
            case STREAM -> stream(http.open(assistantPath(ownersClientId, role), null,
                    "{\"prompt\":\"another question\",\"streaming\":\"active\"}"));
        };
    }

    /** An assistant-style conversation: the id its client gave it, and the engine's id of it. */
    private record AssistantConversation(String clientId, String id) {
    }

    /** A conversation on the board's chat that the owner started with a first prompt, through this API. */
    private static AssistantConversation assistantConversation() {
        String clientId = "a-" + IDS.incrementAndGet();
        Set<String> before = acmeConversationIds();
        TestServer.Response r = http.post(assistantPath(clientId, Role.OWNER), null, "{\"prompt\":\"first question\"}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        Set<String> started = new HashSet<>(acmeConversationIds());
        started.removeAll(before);
        assertThat(started).as("the conversations the first prompt started").hasSize(1);
        return new AssistantConversation(clientId, started.iterator().next());
    }

    // ---------------------------------------------------------------------------------------------------------
    // What every cell reads back

    /**
     * What the organizations' admins read over HTTP: how many conversations each organization has, the conversation
     * (its totals, steering and model) or the 404 it now answers, its messages, and how often the models were called.
     */
    record Snapshot(long acme, long globex, int conversationStatus, JsonNode conversation, JsonNode messages,
                    int modelCalls) {
        Snapshot withConversations(long acmeCount, long globexCount) {
            return new Snapshot(acmeCount, globexCount, conversationStatus, conversation, messages, modelCalls);
        }

        Snapshot withModelCalls(int calls) {
            return new Snapshot(acme, globex, conversationStatus, conversation, messages, calls);
        }
    }

    private static Snapshot snapshot(String id) {
        String path = conversationsPath(HOME) + "/" + id;
        TestServer.Response conversation = http.get(path, Role.ORGANIZATION_ADMIN.token());
        TestServer.Response messages = http.get(path + "/messages?size=100", Role.ORGANIZATION_ADMIN.token());
        JsonNode stored = messages.status() == 200 ? messages.json().get("data") : messages.json();
        return new Snapshot(total(Role.ORGANIZATION_ADMIN), total(Role.OTHER_ORGANIZATION_ADMIN), conversation.status(),
                conversation.json(), stored, demo.callCount() + slow.callCount());
    }

    /** How many conversations the organization of {@code admin} has, as they list them. */
    private static long total(Role admin) {
        TestServer.Response r = http.get("/conversation?size=1", admin.token());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        return r.json().get("page").get("totalElements").asLong();
    }

    private static Set<String> acmeConversationIds() {
        return conversationsOf(Role.ORGANIZATION_ADMIN, "/conversation?size=100").stream()
                .map(c -> c.get("conversationId").asText()).collect(Collectors.toSet());
    }

    private static List<JsonNode> conversationsOf(Role role, String path) {
        TestServer.Response r = http.get(path, role.token());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        List<JsonNode> all = new ArrayList<>();
        r.json().get("conversations").forEach(all::add);
        return all;
    }

    /** One more turn, "another question" answered, is stored, with the model called once and the totals grown. */
    private static void assertTurnStored(String id, Snapshot before, String status) {
        Snapshot after = snapshot(id);
        assertThat(texts(after.messages())).containsExactly("first question", "echo: first question",
                "another question", "echo: another question");
        assertThat(after.messages().get(3).get("status").asText()).isEqualTo(status);
        assertThat(after.modelCalls()).isEqualTo(before.modelCalls() + 1);
        assertThat(after.conversation().get("tokensIn").asLong())
                .isGreaterThan(before.conversation().get("tokensIn").asLong());
        assertThat(after.conversation().get("tokensOut").asLong())
                .isGreaterThan(before.conversation().get("tokensOut").asLong());
        assertThat(after.acme()).isEqualTo(before.acme());
        assertThat(after.globex()).isEqualTo(before.globex());
    }

    /** The id of the owner's first message in a conversation of the repository- or workspace-scoped API. */
    private static String firstMessageId(String conversationId) {
        return "first-" + conversationId;
    }

    private static List<String> texts(JsonNode messages) {
        return messages.findValuesAsText("text");
    }

    private static void deleteAsOwner(String id) {
        TestServer.Response r = http.delete("/conversation/" + id, Role.OWNER.token());
        assertThat(r.status()).as(r.body()).isEqualTo(200);
    }

    /** A refusal of the repository- and assistant-scoped APIs: the status and {@code {success: false, message}}. */
    private static void assertRefusedWithSuccessFalse(Result r, Outcome expected) {
        assertThat(r.status()).as(r.body()).isEqualTo(expected.status());
        assertThat(r.json().get("success").asBoolean()).as(r.body()).isFalse();
        assertThat(r.json().get("message").asText()).isNotBlank();
    }

    private static void assertRefusedWithSuccessFalse(TestServer.Response r, Outcome expected) {
        assertRefusedWithSuccessFalse(Result.of(r), expected);
    }

    /** A refusal of the workspace-scoped API: the status and {@code {code, message}} with the code of the status. */
    private static void assertRefusedWithCode(Result r, Outcome expected) {
        assertThat(r.status()).as(r.body()).isEqualTo(expected.status());
        assertThat(r.json().get("code").asText()).isEqualTo(expected == FORBIDDEN ? "forbidden" : "notFound");
        assertThat(r.json().get("message").asText()).isNotBlank();
    }

    /** A response: its status and body, and for an event stream its events. */
    private record Result(int status, String body, List<SseEvents.Event> events) {
        static Result of(TestServer.Response r) {
            return new Result(r.status(), r.body(), List.of());
        }

        JsonNode json() {
            return new TestServer.Response(status, body, null, "").json();
        }
    }

    /** Reads a streaming call: every event of an event stream, or the body of the error answered instead. */
    private static Result stream(HttpResponse<InputStream> response) throws InterruptedException, IOException {
        @Nullable String type = response.headers().firstValue("Content-Type").orElse(null);
        if (response.statusCode() == 200 && type != null && type.startsWith("text/event-stream")) {
            try (SseEvents events = new SseEvents(response.body())) {
                return new Result(200, "", events.rest());
            }
        }
        try (InputStream body = response.body()) {
            return new Result(response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8), List.of());
        }
    }
}
