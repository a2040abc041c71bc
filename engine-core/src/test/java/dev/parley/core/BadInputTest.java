package dev.parley.core;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import dev.parley.api.Limits;
import dev.parley.api.Message;
import dev.parley.api.ModelParameters;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.api.values.ModelMessage;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Bad input on every public entry point is refused with a typed error, an {@link InvalidRequestException} naming
 * the exact field or NOT_FOUND for an unknown id, and leaves the store exactly as it was: same conversations, same
 * totals, same messages, same audit events, and no model call. Unusual but valid input (4-byte characters, SQL
 * metacharacters) is accepted and comes back exactly as it was sent.
 */
public class BadInputTest {
    private static final String UNKNOWN_MODEL = "no-such-model";
    private static final String SQL = "'; DROP TABLE messages; --";
    private static final String EMOJI = "Ship it \uD83D\uDE80\uD83D\uDD25 \u2014 \uD83D\uDC69\u200D\uD83D\uDCBB \uD834\uDD1E na\u00EFve";

    /** The store the engine under test uses; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    private final ConversationStore store = newStore();
    private final ScriptedModel model = ScriptedModel.echo();
    private ConversationEngine engine;
    private Conversations alice;
    private Conversations orgAdmin;
    private Conversation conversation;

    @BeforeEach
    void createAConversationWithOneTurn() {
        engine = EngineFixture.builder(model, store).build();
        alice = engine.as(EngineFixture.member("alice"));
        orgAdmin = engine.as(Caller.user("auditor", ORG).organizationAdmin().build());
        conversation = alice.create(NewConversation.inWorkspace(WS).personality("Helpful").build());
        conversation.send(Prompt.text("hello").id("msg-1").build());
    }

    @AfterEach
    void closeEngine() {
        engine.close();
    }

    /** One bad call, made as "alice", the owner of {@code c}. */
    @FunctionalInterface
    interface BadCall {
        void run(Conversations as, Conversation c);
    }

    static Stream<Arguments> badCalls() {
        String tooLongId = "m".repeat(Limits.MAX_ID_LENGTH + 1);
        return Stream.of(
                // Prompt text
                bad("a prompt whose text is null", "text", (as, c) -> c.send(Prompt.text(null).build())),
                bad("a prompt whose text is empty", "text", (as, c) -> c.send(Prompt.text("").build())),
                bad("a prompt whose text is blank", "text", (as, c) -> c.send(Prompt.text(" \t\n ").build())),
                bad("a prompt text one char over Limits.MAX_TEXT_LENGTH", "text",
                        (as, c) -> c.send(Prompt.text("x".repeat(Limits.MAX_TEXT_LENGTH + 1)).build())),
                bad("a prompt text containing NUL", "text", (as, c) -> c.send(Prompt.text("a\0b").build())),
                bad("a prompt text with a lone high surrogate", "text",
                        (as, c) -> c.send(Prompt.text("broken \uD83D emoji").build())),
                bad("a prompt text with a lone low surrogate", "text",
                        (as, c) -> c.send(Prompt.text("broken \uDE80 emoji").build())),
                bad("a prompt text ending in a high surrogate", "text",
                        (as, c) -> c.send(Prompt.text("broken \uD83D").build())),
                bad("a prompt text with a surrogate pair in the wrong order", "text",
                        (as, c) -> c.send(Prompt.text("\uDE80\uD83D").build())),
                // Prompt id
                bad("a prompt id that is empty", "id", (as, c) -> c.send(Prompt.text("hi").id("").build())),
                bad("a prompt id that is blank", "id", (as, c) -> c.send(Prompt.text("hi").id("   ").build())),
                bad("a prompt id one char over Limits.MAX_ID_LENGTH", "id",
                        (as, c) -> c.send(Prompt.text("hi").id(tooLongId).build())),
                bad("a prompt id with a newline", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\n2").build())),
                bad("a prompt id with a BEL control char", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\u00072").build())),
                bad("a prompt id with DEL", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\u007F").build())),
                bad("a prompt id with a C1 control char", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\u0085").build())),
                bad("a prompt id with NUL", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\0").build())),
                bad("a prompt id with a lone surrogate", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\uD83D").build())),
                bad("a prompt id of a zero-width space only", "id", (as, c) -> c.send(Prompt.text("hi").id("\u200B").build())),
                bad("a prompt id with a zero-width joiner", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\u200D1").build())),
                bad("a prompt id with a right-to-left override", "id",
                        (as, c) -> c.send(Prompt.text("hi").id("msg-\u202E1-gsm").build())),
                bad("a prompt id with a byte order mark", "id", (as, c) -> c.send(Prompt.text("hi").id("\uFEFFmsg").build())),
                bad("a prompt id with a line separator", "id", (as, c) -> c.send(Prompt.text("hi").id("msg\u20282").build())),
                bad("a prompt id with a Unicode tag character", "id",
                        (as, c) -> c.send(Prompt.text("hi").id("msg\uDB40\uDC41").build())),
                // Other prompt options
                bad("an additional-context snippet that is blank", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext("fine", "  ").build())),
                bad("an additional-context snippet that is empty", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext("").build())),
                bad("an additional-context snippet that is null", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext(Collections.singletonList(null)).build())),
                bad("an additional-context snippet containing NUL", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext("a\0b").build())),
                bad("more additional-context snippets than Limits.MAX_CONTEXT_SNIPPETS", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext(
                                Collections.nCopies(Limits.MAX_CONTEXT_SNIPPETS + 1, "snippet")).build())),
                bad("an additional-context snippet over Limits.MAX_TEXT_LENGTH", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext("s".repeat(Limits.MAX_TEXT_LENGTH + 1)).build())),
                bad("a context size of 0", "contextSize", (as, c) -> c.send(Prompt.text("hi").contextSize(0).build())),
                bad("a negative context size", "contextSize", (as, c) -> c.send(Prompt.text("hi").contextSize(-1).build())),
                bad("a context size over Limits.MAX_CONTEXT_SIZE", "contextSize",
                        (as, c) -> c.send(Prompt.text("hi").contextSize(Limits.MAX_CONTEXT_SIZE + 1).build())),
                bad("a prompt naming an unknown model", "model",
                        (as, c) -> c.send(Prompt.text("hi").model(UNKNOWN_MODEL).build())),
                bad("a prompt naming a model over Limits.MAX_TAG_LENGTH", "model",
                        (as, c) -> c.send(Prompt.text("hi").model("m".repeat(Limits.MAX_TAG_LENGTH + 1)).build())),
                bad("a prompt naming a blank model", "model", (as, c) -> c.send(Prompt.text("hi").model(" ").build())),
                bad("a prompt with a blank user tag", "user", (as, c) -> c.send(Prompt.text("hi").user(" ").build())),
                bad("a user tag with a newline (a forged log line)", "user",
                        (as, c) -> c.send(Prompt.text("hi").user("alice\nINFO admin logged in").build())),
                bad("a user tag with an ESC sequence", "user",
                        (as, c) -> c.send(Prompt.text("hi").user("alice\u001B[2J").build())),
                bad("a source tag with a carriage return", "source",
                        (as, c) -> c.send(Prompt.text("hi").source("web\rapp").build())),
                bad("a source tag with a zero-width space", "source",
                        (as, c) -> c.send(Prompt.text("hi").source("web\u200Bapp").build())),
                bad("a prompt naming a model with a newline", "model",
                        (as, c) -> c.send(Prompt.text("hi").model("scripted\nfake").build())),
                bad("text and additional context together over Limits.MAX_PROMPT_TOTAL_LENGTH", "additionalContext",
                        (as, c) -> c.send(Prompt.text("x".repeat(Limits.MAX_TEXT_LENGTH))
                                .additionalContext("s".repeat(Limits.MAX_TEXT_LENGTH), "t").build())),
                bad("a context size over the model's context window", "contextSize",
                        (as, c) -> c.send(Prompt.text("hi")
                                .contextSize(ConversationEngine.Builder.DEFAULT_CONTEXT_WINDOW + 1).build())),
                bad("a prompt larger than the model's context window", "text",
                        (as, c) -> c.send(Prompt.text("word ".repeat(200_000)).build())),
                bad("additional context larger than the model's context window", "additionalContext",
                        (as, c) -> c.send(Prompt.text("hi").additionalContext("word ".repeat(100_000),
                                "more ".repeat(100_000)).build())),
                bad("a prompt createdAt far in the future", "createdAt",
                        (as, c) -> c.send(Prompt.text("hi").createdAt(java.time.Instant.parse("9999-12-31T00:00:00Z")).build())),
                bad("a stream whose prompt createdAt is far in the future", "createdAt",
                        (as, c) -> c.stream(Prompt.text("hi").createdAt(java.time.Instant.parse("9999-12-31T00:00:00Z")).build(),
                                EngineLifecycleTest.ignoring())),
                bad("a prompt with a source tag over Limits.MAX_TAG_LENGTH", "source",
                        (as, c) -> c.send(Prompt.text("hi").source("s".repeat(Limits.MAX_TAG_LENGTH + 1)).build())),
                // New conversations
                bad("a new conversation in an empty workspace id", "workspaceId",
                        (as, c) -> as.create(NewConversation.inWorkspace("").build())),
                bad("a new conversation in a blank workspace id", "workspaceId",
                        (as, c) -> as.create(NewConversation.inWorkspace("   ").build())),
                bad("a new conversation in a null workspace id", "workspaceId",
                        (as, c) -> as.create(NewConversation.inWorkspace(null).build())),
                bad("a new conversation in a workspace id with a control char", "workspaceId",
                        (as, c) -> as.create(NewConversation.inWorkspace("ws\t1").build())),
                bad("a new conversation in a zero-width workspace id", "workspaceId",
                        (as, c) -> as.create(NewConversation.inWorkspace("\u200B\u200B").build())),
                bad("a new conversation created far in the future", "createdAt",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS)
                                .createdAt(java.time.Instant.parse("9999-12-31T23:59:59Z")).build())),
                bad("a new conversation with a model name holding an ESC", "modelName",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).modelName("scripted\u001B[31m").build())),
                bad("a new conversation on a blank repository id", "repositoryId",
                        (as, c) -> as.create(NewConversation.inRepository(" ").build())),
                bad("a new conversation with an unknown model", "modelName",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).modelName(UNKNOWN_MODEL).build())),
                bad("a new conversation with a blank model", "modelName",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).modelName("  ").build())),
                bad("a new conversation with a model name over Limits.MAX_TAG_LENGTH", "modelName",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).modelName("m".repeat(Limits.MAX_TAG_LENGTH + 1)).build())),
                bad("a new conversation with a brand voice no resolver knows", "brandVoiceId",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).brandVoiceId("bv-1").build())),
                bad("a new conversation with a target audience no resolver knows", "targetAudienceId",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).targetAudienceId("ta-1").build())),
                bad("a new conversation with a blank personality", "personality",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).personality("  ").build())),
                bad("a new conversation with an empty personality", "personality",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).personality("").build())),
                bad("a new conversation with a personality over Limits.MAX_STEERING_LENGTH", "personality",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS)
                                .personality("p".repeat(Limits.MAX_STEERING_LENGTH + 1)).build())),
                bad("a new conversation with a blank personality id", "personalityId",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).personalityId(" ").build())),
                // Paging
                bad("messages of page 0", "page", (as, c) -> c.messages(PageRequest.of(0, 20))),
                bad("messages of a negative page", "page", (as, c) -> c.messages(PageRequest.of(-1, 20))),
                bad("messages in pages of size 0", "size", (as, c) -> c.messages(PageRequest.of(1, 0))),
                bad("messages in pages of size 101", "size", (as, c) -> c.messages(PageRequest.of(1, PageRequest.MAX_SIZE + 1))),
                bad("a list of page 0", "page", (as, c) -> as.list(ConversationQuery.all(PageRequest.of(0, 20)))),
                bad("a list in pages of size 0", "size", (as, c) -> as.list(ConversationQuery.all(PageRequest.of(1, 0)))),
                bad("a list in pages of size 101", "size",
                        (as, c) -> as.list(ConversationQuery.all(PageRequest.of(1, PageRequest.MAX_SIZE + 1)))),
                // Conversation ids
                bad("get of an empty id", "conversationId", (as, c) -> as.get("")),
                bad("get of a blank id", "conversationId", (as, c) -> as.get("  ")),
                bad("get of a null id", "conversationId", (as, c) -> as.get(null)),
                bad("get of an id over Limits.MAX_ID_LENGTH", "conversationId", (as, c) -> as.get(tooLongId)),
                bad("get of an id with a control char", "conversationId", (as, c) -> as.get("id-1\r\n")),
                // Updates
                bad("an update with an empty patch", "patch", (as, c) -> c.update(ConversationPatch.builder().build())),
                bad("an update to an unknown model", "modelName",
                        (as, c) -> c.update(ConversationPatch.builder().modelName(UNKNOWN_MODEL).build())),
                bad("an update to a blank model", "modelName",
                        (as, c) -> c.update(ConversationPatch.builder().modelName(" ").build())),
                bad("an update to a model name with a newline", "modelName",
                        (as, c) -> c.update(ConversationPatch.builder().modelName("scripted\n").build())),
                bad("an update to a brand voice no resolver knows", "brandVoiceId",
                        (as, c) -> c.update(ConversationPatch.builder().brandVoiceId("bv-1").build())),
                bad("an update to a target audience no resolver knows", "targetAudienceId",
                        (as, c) -> c.update(ConversationPatch.builder().targetAudienceId("ta-1").build())),
                bad("an update to a blank personality", "personality",
                        (as, c) -> c.update(ConversationPatch.builder().personality(" ").build())),
                bad("an update that also names an unknown model", "modelName",
                        (as, c) -> c.update(ConversationPatch.builder().personality("Curt").modelName(UNKNOWN_MODEL).build())),
                // Model parameters, on a prompt and on a conversation
                bad("maxOutputTokens of 0", "maxOutputTokens",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder().maxOutputTokens(0).build()).build())),
                bad("maxOutputTokens over Limits.MAX_OUTPUT_TOKENS", "maxOutputTokens",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder()
                                .maxOutputTokens(Limits.MAX_OUTPUT_TOKENS + 1).build()).build())),
                bad("a negative temperature", "temperature",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder().temperature(-0.1).build()).build())),
                bad("a temperature over Limits.MAX_TEMPERATURE", "temperature",
                        (as, c) -> c.update(ConversationPatch.builder().modelParameters(ModelParameters.builder()
                                .temperature(2.01).build()).build())),
                bad("a temperature that is not a number", "temperature",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder().temperature(Double.NaN).build()).build())),
                bad("five stop sequences", "stopSequences",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder()
                                .stopSequences(List.of("a", "b", "c", "d", "e")).build()).build())),
                bad("an empty stop sequence", "stopSequences",
                        (as, c) -> as.create(NewConversation.inWorkspace(WS).modelParameters(ModelParameters.builder()
                                .stopSequences(List.of("")).build()).build())),
                bad("a stop sequence over Limits.MAX_STOP_SEQUENCE_LENGTH", "stopSequences",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder()
                                .stopSequences(List.of("x".repeat(Limits.MAX_STOP_SEQUENCE_LENGTH + 1))).build()).build())),
                bad("a stop sequence containing NUL", "stopSequences",
                        (as, c) -> c.send(Prompt.text("hi").modelParameters(ModelParameters.builder()
                                .stopSequences(List.of("a\0b")).build()).build())),
                // Queries
                bad("a query of a blank workspace id", "workspaceId",
                        (as, c) -> as.list(ConversationQuery.inWorkspace("  ", PageRequest.first()))),
                bad("a query of an empty workspace id", "workspaceId",
                        (as, c) -> as.list(ConversationQuery.inWorkspace("", PageRequest.first()))),
                bad("a query record of a blank workspace id", "workspaceId",
                        (as, c) -> as.list(new ConversationQuery(" ", null, PageRequest.first()))),
                bad("a query of a blank repository id", "repositoryId",
                        (as, c) -> as.list(ConversationQuery.inRepository(" ", PageRequest.first()))),
                // Callers
                bad("a caller with a blank user id", "userId",
                        (as, c) -> Caller.user(" ", ORG).member(WS).build()),
                bad("a caller with a blank organization id", "organizationId",
                        (as, c) -> Caller.user("alice", "").member(WS).build()),
                bad("a caller of a blank workspace", "workspaceId",
                        (as, c) -> Caller.user("alice", ORG).member(" ").build()));
    }

    private static Arguments bad(String description, String field, BadCall call) {
        return Arguments.of(description, field, call);
    }

    @ParameterizedTest(name = "{0} is refused naming \"{1}\" and changes nothing")
    @MethodSource("badCalls")
    void badInputIsRefusedNamingTheFieldAndLeavesTheStoreUnchanged(String description, String field, BadCall call) {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> call.run(alice, conversation))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
                    assertThat(e.field()).isEqualTo(field);
                });
        assertThat(model.callCount()).as("model calls").isEqualTo(before.modelCalls());
        assertThat(snapshot()).isEqualTo(before);
    }

    @ParameterizedTest(name = "get of the unknown id \"{0}\" is NOT_FOUND and changes nothing")
    @ValueSource(strings = {"id-999", "no-such-conversation", SQL, "\uD83D\uDE80"})
    void anUnknownConversationIdIsNotFound(String unknownId) {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> alice.get(unknownId))
                .isInstanceOfSatisfying(ConversationNotFoundException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
                    assertThat(e.conversationId()).isEqualTo(unknownId);
                });
        assertThat(snapshot()).isEqualTo(before);
    }

    static Stream<Arguments> unusualButValidTexts() {
        return Stream.of(
                Arguments.of("4-byte unicode (emoji)", EMOJI),
                Arguments.of("SQL metacharacters", SQL),
                Arguments.of("emoji and SQL together", SQL + " " + EMOJI),
                Arguments.of("quotes, backslashes and LIKE wildcards", "Robert'); DROP TABLE conversations;-- \\ \" % _ `"),
                Arguments.of("markup", "<script>alert('x')</script> &amp; {{template}} ${expr}"),
                Arguments.of("right-to-left and combining text", "\u05E9\u05DC\u05D5\u05DD e\u0301 \u202Eabc"));
    }

    @ParameterizedTest(name = "a prompt of {0} is accepted and round-trips exactly")
    @MethodSource("unusualButValidTexts")
    void unusualButValidTextIsAcceptedAndRoundTripsExactlyThroughSendAndMessages(String label, String text) {
        Reply reply = conversation.send(Prompt.text(text).build());

        assertThat(model.lastRequest().messages()).last().extracting(ModelMessage::text).isEqualTo(text);
        assertThat(reply.text()).isEqualTo("echo: " + text);
        List<Message> stored = orgAdmin.get(conversation.id()).messages(PageRequest.first()).items();
        assertThat(stored).hasSize(4);
        assertThat(stored.get(2).role()).isEqualTo(Role.USER);
        assertThat(stored.get(2).text()).isEqualTo(text);
        assertThat(stored.get(2).text().codePoints().toArray()).isEqualTo(text.codePoints().toArray());
        assertThat(stored.get(3).text()).isEqualTo("echo: " + text);
    }

    static Stream<Arguments> unusualButValidIds() {
        return Stream.of(
                Arguments.of("4-byte unicode (emoji)", EMOJI.replace("\u200D", "")),
                Arguments.of("SQL metacharacters", SQL),
                Arguments.of("quotes, backslashes and LIKE wildcards", "Robert'); DROP TABLE conversations;-- \\ \" % _ `"),
                Arguments.of("right-to-left and combining text", "\u05E9\u05DC\u05D5\u05DD e\u0301"));
    }

    @ParameterizedTest(name = "a prompt id of {0} is accepted and round-trips exactly")
    @MethodSource("unusualButValidIds")
    void unusualButValidPromptIdsAreAcceptedAndRoundTripExactly(String label, String id) {
        Reply reply = conversation.send(Prompt.text("hi").id(id).build());
        Reply replay = conversation.send(Prompt.text("hi").id(id).build());

        assertThat(reply.promptId()).isEqualTo(id);
        assertThat(replay.replayed()).isTrue();
        assertThat(replay.messageId()).isEqualTo(reply.messageId());
        assertThat(model.callCount()).isEqualTo(2);
        List<String> ids = conversation.messages(PageRequest.first()).items().stream().map(Message::id).toList();
        assertThat(ids).hasSize(4);
        assertThat(ids.get(0)).isEqualTo("msg-1");
        assertThat(ids.subList(2, 4)).containsExactly(id, reply.messageId());
    }

    @Test
    void aPersonalityWithEmojiAndSqlIsAcceptedAndReachesTheModelExactly() {
        String personality = SQL + " " + EMOJI;
        Conversation c = alice.create(NewConversation.inWorkspace(WS).personality(personality).build());

        c.send(Prompt.text("hi").build());

        assertThat(c.info().steering().personality()).isEqualTo(personality);
        assertThat(model.lastRequest().messages().get(0)).isEqualTo(ModelMessage.system(personality));
    }

    @Test
    void valuesExactlyAtTheirLimitsAreAccepted() {
        String longestId = "i".repeat(Limits.MAX_ID_LENGTH);

        Reply reply = conversation.send(Prompt.text("hi").id(longestId)
                .additionalContext(Collections.nCopies(Limits.MAX_CONTEXT_SNIPPETS, "snippet"))
                .contextSize(ConversationEngine.Builder.DEFAULT_CONTEXT_WINDOW).build());

        assertThat(reply.promptId()).isEqualTo(longestId);
        assertThat(Prompt.text("x".repeat(Limits.MAX_TEXT_LENGTH)).build().text()).hasSize(Limits.MAX_TEXT_LENGTH);
        assertThat(Prompt.text("x".repeat(Limits.MAX_TEXT_LENGTH)).additionalContext("s".repeat(Limits.MAX_TEXT_LENGTH))
                .build().additionalContext()).hasSize(1);
        assertThat(alice.create(NewConversation.inWorkspace(WS).createdAt(java.time.Instant.parse("2025-12-31T23:59:00Z"))
                .build()).info().createdAt()).isEqualTo("2025-12-31T23:59:00Z");
        // The fixture's clock starts at 2026-01-01T00:00:00Z: four minutes ahead is within the allowed skew.
        conversation.send(Prompt.text("soon").createdAt(java.time.Instant.parse("2026-01-01T00:04:00Z")).build());
        List<Message> sent = conversation.messages(PageRequest.of(1, PageRequest.MAX_SIZE)).items();
        assertThat(sent.get(sent.size() - 2).createdAt()).isEqualTo("2026-01-01T00:04:00Z");
        assertThat(Prompt.text("hi").contextSize(1).build().contextSize()).hasValue(1);
        assertThat(conversation.messages(PageRequest.of(1, PageRequest.MAX_SIZE)).items()).hasSize(6);
        assertThat(alice.create(NewConversation.inWorkspace(WS).personality("p".repeat(Limits.MAX_STEERING_LENGTH)).build())
                .info().steering().personality()).hasSize(Limits.MAX_STEERING_LENGTH);
    }

    @Test
    void aRefusedSendOfAKnownMessageIdDoesNotDisturbItsStoredTurn() {
        StoreSnapshot before = snapshot();

        assertThatThrownBy(() -> conversation.send(Prompt.text("hello").id("msg-1").model(UNKNOWN_MODEL).build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("model"));
        assertThat(snapshot()).isEqualTo(before);

        Reply replay = conversation.send(Prompt.text("hello").id("msg-1").build());
        assertThat(replay.replayed()).isTrue();
        assertThat(replay.text()).isEqualTo("echo: hello");
        assertThat(model.callCount()).isEqualTo(before.modelCalls());
    }

    // ---------------------------------------------------------------------------------------------------------

    /**
     * What an organization admin sees of the organization: every conversation with its totals, every page of
     * its messages and its audit events; and how often the model was called.
     */
    record StoreSnapshot(List<ConversationInfo> conversations, Map<String, List<Message>> messages,
                         Map<String, List<AuditEvent>> events, int modelCalls) {
    }

    private StoreSnapshot snapshot() {
        List<ConversationInfo> conversations = new ArrayList<>();
        Map<String, List<Message>> messages = new LinkedHashMap<>();
        Map<String, List<AuditEvent>> events = new LinkedHashMap<>();
        for (ConversationInfo listed : allPages(p -> orgAdmin.list(ConversationQuery.all(p)))) {
            Conversation c = orgAdmin.get(listed.id());
            conversations.add(c.info());
            messages.put(c.id(), allPages(c::messages));
            events.put(c.id(), store.events(c.id()));
        }
        return new StoreSnapshot(conversations, messages, events, model.callCount());
    }

    private static <T> List<T> allPages(java.util.function.Function<PageRequest, Page<T>> read) {
        List<T> all = new ArrayList<>();
        for (int page = 1; ; page++) {
            Page<T> p = read.apply(PageRequest.of(page, PageRequest.MAX_SIZE));
            all.addAll(p.items());
            if (page >= p.totalPages()) {
                return all;
            }
        }
    }
}
