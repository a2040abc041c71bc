package dev.parley.core;

import dev.parley.api.AccessDeniedException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationExport;
import dev.parley.api.ConversationNotFoundException;
import dev.parley.api.CreditAccounts;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.ModelParameters;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.values.AuditEvent;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigDecimal;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static dev.parley.core.EngineFixture.MODEL;
import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A conversation exported as JSON and imported into another store: every message with its tokens, status, tags,
 * usage and credits comes back, exporting it again gives the same JSON, turns continue after the last message, an
 * existing id is refused, and every kind of bad input is refused naming its member with nothing stored. Runs on
 * the in-memory store; engine-store-jdbc runs it on H2 and PostgreSQL.
 */
public class ExportImportTest {
    private static final Caller OWNER = EngineFixture.member("alice");
    private static final Caller ADMIN = Caller.user("olga", ORG).organizationAdmin().build();

    /** The store conversations are imported into; subclasses run these tests on other stores. */
    protected ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /** The store conversations are exported from; {@link #newStore()} unless a subclass moves between kinds. */
    protected ConversationStore newSourceStore() {
        return newStore();
    }

    private final ScriptedModel model = ScriptedModel.echo();
    private ConversationStore sourceStore;
    private ConversationStore targetStore;
    private ConversationEngine source;
    private ConversationEngine target;
    private Conversation original;

    @BeforeEach
    void aConversationWithTurnsOfEveryKind() {
        sourceStore = newSourceStore();
        targetStore = newStore();
        source = metered(EngineFixture.builder(model, sourceStore)).build();
        target = metered(EngineFixture.builder(model, targetStore)).build();
        original = source.as(OWNER).create(NewConversation.inWorkspace(WS).personality("Be brief, \"exact\" and kind.")
                .modelName(MODEL)
                .modelParameters(ModelParameters.builder().maxOutputTokens(300).temperature(0.2)
                        .stopSequences(List.of("END", "\n\n")).responseFormat(ModelParameters.ResponseFormat.TEXT)
                        .build())
                .build());
        original.send(Prompt.text("What is the plan for Monday?").id("p-1").user("u-7").source("web").build());
        original.send(Prompt.text("Tabs\tquotes \" backslashes \\ and 😀 emoji, line\nbreaks too")
                .additionalContext("context that is not stored").build());
        CreditAccounts credits = source.credits();
        credits.topUp(credits.open(AccountOwner.organization(ORG)).id(), new BigDecimal("100"), "test funds");
        original.send(Prompt.text("And a metered turn, please.").id("p-3").build());
    }

    private static ConversationEngine.Builder metered(ConversationEngine.Builder builder) {
        return builder.price(MODEL, ModelPrice.perThousand("0.15", "0.60"));
    }

    @AfterEach
    void closeEngines() {
        source.close();
        target.close();
    }

    @Test
    void anExportHoldsEveryMessageWithItsTokensStatusTagsUsageAndCredits() {
        ConversationExport export = original.export();
        List<Message> stored = original.messages(PageRequest.of(1, 100)).items();
        assertThat(export.conversation()).isEqualTo(original.info());
        assertThat(export.messages()).isEqualTo(stored).hasSize(6);
        assertThat(export.messages().get(0).user()).isEqualTo("u-7");
        assertThat(export.messages().get(0).source()).isEqualTo("web");
        assertThat(export.messages().get(5).credits().metered()).isTrue();
        assertThat(export.toJson()).doesNotContain("context that is not stored");
        assertThat(export.toString()).doesNotContain("plan for Monday");
    }

    @Test
    void theJsonReadsBackToTheSameExport() {
        ConversationExport export = original.export();
        assertThat(ConversationExport.fromJson(export.toJson())).isEqualTo(export);
        assertThat(ConversationExport.fromJson(export.toJson()).toJson()).isEqualTo(export.toJson());
    }

    @Test
    void anImportedConversationExportsToTheSameJsonAndTakesNewTurnsAfterItsLastMessage() {
        String json = original.export().toJson();
        Conversation imported = target.as(OWNER).importConversation(ConversationExport.fromJson(json));

        assertThat(imported.id()).isEqualTo(original.id());
        assertThat(imported.export().toJson()).isEqualTo(json);
        assertThat(target.as(OWNER).get(original.id()).info()).isEqualTo(original.info());

        int calls = model.callCount();
        Reply next = imported.send(Prompt.text("A new turn after the import").build());
        assertThat(model.callCount()).isEqualTo(calls + 1);
        List<Message> messages = imported.messages(PageRequest.of(1, 100)).items();
        assertThat(messages).hasSize(8);
        assertThat(messages.get(6).sequence()).isEqualTo(7);
        assertThat(messages.get(7).text()).isEqualTo(next.text());
        assertThat(imported.info().tokensIn()).isEqualTo(original.info().tokensIn() + next.usage().tokensIn());
        assertThat(targetStore.events(original.id())).extracting(AuditEvent::type)
                .containsExactly(AuditEvent.Type.CONVERSATION_IMPORTED);
    }

    @Test
    void anImportedPromptIdIsRefusedWhenSentAgainWithoutAModelCall() {
        Conversation imported = target.as(OWNER).importConversation(original.export());
        int calls = model.callCount();
        assertThatThrownBy(() -> imported.send(Prompt.text("What is the plan for Monday?").id("p-1").build()))
                .isInstanceOf(ParleyException.class);
        assertThat(model.callCount()).isEqualTo(calls);
        assertThat(imported.messages(PageRequest.of(1, 100)).items()).hasSize(6);
    }

    @Test
    void anOrganizationAdminMayImportAnotherUsersConversation() {
        Conversation imported = target.as(ADMIN).importConversation(original.export());
        assertThat(imported.info().ownerId()).isEqualTo("alice");
        assertThat(target.as(OWNER).get(original.id()).export().toJson()).isEqualTo(original.export().toJson());
    }

    @Test
    void anIdAlreadyStoredIsRefusedAndNothingChanges() {
        ConversationExport export = original.export();
        assertThatThrownBy(() -> source.as(OWNER).importConversation(export))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("conversation.id"));
        assertThat(original.export()).isEqualTo(export);
        assertThat(sourceStore.events(original.id())).extracting(AuditEvent::type)
                .doesNotContain(AuditEvent.Type.CONVERSATION_IMPORTED);
    }

    @Test
    void aDeletedConversationsIdIsRefusedToo() {
        ConversationExport export = original.export();
        original.delete();
        assertThatThrownBy(() -> source.as(OWNER).importConversation(export))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("conversation.id"));
        assertThatThrownBy(() -> source.as(OWNER).get(export.conversation().id()))
                .isInstanceOf(ConversationNotFoundException.class);
    }

    static Stream<Arguments> refusedCallers() {
        return Stream.of(
                Arguments.of("another member of the workspace", EngineFixture.member("bob")),
                Arguments.of("the owner outside the workspace", Caller.user("alice", ORG).member("ws-2").build()),
                Arguments.of("a workspace admin", Caller.user("wendy", ORG).admin(WS).build()),
                Arguments.of("an admin of another organization", Caller.user("olga", "org-2").organizationAdmin().build()));
    }

    @ParameterizedTest(name = "{0} may not import")
    @MethodSource("refusedCallers")
    void onlyTheOwnerOrAnOrganizationAdminMayImport(String who, Caller caller) {
        ConversationExport export = original.export();
        assertThatThrownBy(() -> target.as(caller).importConversation(export)).isInstanceOf(AccessDeniedException.class);
        assertNothingImported(export);
    }

    static Stream<Arguments> badDocuments() {
        return Stream.of(
                bad("json", json -> "{\"format\":"),
                bad("json", json -> json + " trailing"),
                bad("json", json -> json.replace("{\"format\"", "{\"format\":1,\"format\"")),
                bad("json", json -> "[" + json + "]"),
                bad("json", json -> null),
                bad("format", json -> json.replace("\"parley-conversation\"", "\"other\"")),
                bad("version", json -> json.replace("\"version\":2", "\"version\":3")),
                bad("json", json -> json.replace("\"version\":2", "\"version\":1")),
                bad("summaries", json -> json.replace("\"summaries\":[]", "\"summaries\":{}")),
                bad("summaries", json -> json.replace(",\"summaries\":[]", "")),
                bad("messages", json -> json.replace("\"messages\":[", "\"messages\":{\"x\":[").replace("],\"summaries\"", "]},\"summaries\"")),
                bad("conversation", json -> json.replace("\"ownerId\":\"alice\"", "\"ownerId\":\"alice\",\"extra\":1")),
                bad("conversation.ownerId", json -> json.replace("\"ownerId\":\"alice\",", "")),
                bad("conversation.ownerId", json -> json.replace("\"ownerId\":\"alice\"", "\"ownerId\":\"ali\\u202ece\"")),
                bad("conversation.ownerId", json -> json.replace("\"ownerId\":\"alice\"", "\"ownerId\":\"   \"")),
                bad("conversation.ownerId", json -> json.replace("\"ownerId\":\"alice\"", "\"ownerId\":7")),
                bad("conversation.id", json -> json.replaceFirst("\"id\":\"[^\"]*\"", "\"id\":\"" + "x".repeat(129) + "\"")),
                bad("conversation.tokensIn", json -> json.replaceFirst("\"tokensIn\":\\d+", "\"tokensIn\":-1")),
                bad("conversation.tokensIn", json -> json.replaceFirst("\"tokensIn\":\\d+", "\"tokensIn\":1.5")),
                bad("conversation.createdAt", json -> json.replaceFirst("\"createdAt\":\"[^\"]*\"", "\"createdAt\":\"yesterday\"")),
                bad("conversation.createdAt", json -> json.replaceFirst("\"createdAt\":\"[^\"]*\"", "\"createdAt\":\"2999-01-01T00:00:00Z\"")),
                bad("conversation.modelName", json -> json.replace("\"modelName\":\"scripted\"", "\"modelName\":\"no-such-model\"")),
                bad("conversation.modelParameters.temperature", json -> json.replace("\"temperature\":0.2", "\"temperature\":9")),
                bad("messages[0].sequence", json -> json.replaceFirst("\"sequence\":1,", "\"sequence\":2,")),
                bad("messages[1].id", json -> json.replaceFirst("\"id\":\"([^\"]*)\",\"sequence\":2", "\"id\":\"p-1\",\"sequence\":2")),
                bad("messages[0].role", json -> json.replaceFirst("\"role\":\"USER\"", "\"role\":\"SYSTEM\"")),
                bad("messages[0].status", json -> json.replaceFirst("\"status\":\"COMPLETE\"", "\"status\":\"done\"")),
                bad("messages[0].tokens", json -> json.replaceFirst("\"tokens\":\\d+", "\"tokens\":-3")),
                bad("messages[0].text", json -> json.replaceFirst("\"text\":\"[^\"]*\"", "\"text\":\"a\\\\u0000b\"")),
                bad("json", json -> json.replaceFirst("\"text\":\"[^\"]*\"", "\"text\":\"\\\\ud800\"")),
                bad("messages[0].user", json -> json.replace("\"user\":\"u-7\"", "\"user\":\"u\\u001b[31m\"")),
                bad("messages[1].usage", json -> json.replaceFirst("(\"sequence\":2,.*?\"usage\":)\\{[^}]*\\}", "$1null")),
                bad("messages[5].credits.used", json -> json.replaceFirst("\"used\":\"[^\"]*\"", "\"used\":\"-1\"")),
                bad("messages[5].credits.used", json -> json.replaceFirst("\"used\":\"[^\"]*\"", "\"used\":\"0.0000000001\"")),
                bad("messages[0].createdAt", json -> json.replaceFirst("(\"sequence\":1,.*?\"createdAt\":)\"[^\"]*\"", "$1\"3000-01-01T00:00:00Z\"")));
    }

    private static Arguments bad(String field, UnaryOperator<String> edit) {
        return Arguments.of(field, edit);
    }

    @ParameterizedTest(name = "[{index}] refused naming {0}")
    @MethodSource("badDocuments")
    void badInputIsRefusedNamingTheMemberAndNothingIsStored(String field, UnaryOperator<String> edit) {
        ConversationExport export = original.export();
        String json = edit.apply(export.toJson());
        assertThatThrownBy(() -> target.as(OWNER).importConversation(ConversationExport.fromJson(json)))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.getMessage()).doesNotContain("plan for Monday");
                });
        assertNothingImported(export);
    }

    private void assertNothingImported(ConversationExport export) {
        assertThat(targetStore.find(export.conversation().id())).isEmpty();
        assertThat(targetStore.events(export.conversation().id())).isEmpty();
        assertThat(targetStore.messages(export.conversation().id(), PageRequest.of(1, 10)).items()).isEmpty();
    }

    @Test
    void aMessageOfAnotherConversationIsRefused() {
        ConversationExport export = original.export();
        Message m = export.messages().get(0);
        Message foreign = new Message(m.id(), "another", m.sequence(), Role.USER, m.text(), m.tokens(), null, null,
                null, m.status(), m.createdAt(), null);
        assertThatThrownBy(() -> new ConversationExport(export.conversation(), List.of(foreign)))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("messages[0].conversationId"));
    }
}
