package dev.parley.samples.embedding;

import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.parley.api.AccessDeniedException;
import dev.parley.api.BudgetExceededException;
import dev.parley.api.ErrorCode;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.Message;
import dev.parley.api.MessageStatus;
import dev.parley.api.Page;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Reply;
import dev.parley.api.Role;
import dev.parley.api.StreamListener;
import dev.parley.api.Usage;
import dev.parley.api.values.ModelMessage;
import dev.parley.samples.embedding.SupportAssistant.ConversationUsage;
import dev.parley.samples.server.FakeOpenAi;
import dev.parley.store.jdbc.JdbcConversationStore;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * How a host unit tests its own conversation features: {@link SupportAssistant} on Parley's scripted model and a real
 * H2 file, asserting on the exact requests the model received and on what the customer gets back and what is stored;
 * and once on the real LangChain4j OpenAI adapter, over HTTP to a local OpenAI-compatible server.
 */
class SupportAssistantTest {
    private static final String PERSONALITY = "You are Acme's support desk. Be brief.";
    private static final String RESET_ARTICLE = "Passwords are reset under Settings > Security.";

    @TempDir
    Path dir;

    private SupportAssistant opened;

    /** The assistant on {@code model} and a fresh H2 file, with 100 credits on the desk's account. */
    private SupportAssistant desk(ScriptedModel model) {
        opened = new SupportAssistant(model, JdbcConversationStore.h2File(dir.resolve("support")));
        opened.addCredits(new BigDecimal("100"), "test plan");
        return opened;
    }

    @AfterEach
    void close() {
        if (opened != null) {
            opened.close();
        }
    }

    @Test
    void theModelReadsThePersonalityThenTheHistoryThenTheArticlesThenTheQuestion() {
        ScriptedModel model = ScriptedModel.builder().replies("Open Settings > Security.", "Yes, by e-mail.").build();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);

        desk.ask("carol", id, "m-1", "How do I reset my password?", List.of(RESET_ARTICLE));
        desk.ask("carol", id, "m-2", "Will I get a confirmation?",
                List.of("A confirmation is sent after every reset.", "Confirmations can take a minute."));

        assertThat(model.lastRequest().messages()).containsExactly(
                ModelMessage.system(PERSONALITY),
                ModelMessage.user("How do I reset my password?"),
                ModelMessage.assistant("Open Settings > Security."),
                ModelMessage.system("A confirmation is sent after every reset."),
                ModelMessage.system("Confirmations can take a minute."),
                ModelMessage.user("Will I get a confirmation?"));
        assertThat(model.lastRequest().model()).as("the model's name").isEqualTo(SupportAssistant.MODEL);
    }

    @Test
    void aCredentialInAQuestionOrAnArticleIsBlockedBeforeAnyModelCall() {
        ScriptedModel model = ScriptedModel.echo();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);

        assertThatThrownBy(() -> desk.ask("carol", id, "m-1", "Is my key AKIAIOSFODNN7EXAMPLE still valid?", List.of()))
                .isInstanceOf(PolicyBlockedException.class);
        assertThatThrownBy(() -> desk.ask("carol", id, "m-2", "Why does the login fail?",
                List.of("Log in with api_key=Zq8Rk2Vw9Lm4Tx7Pb3Nc")))
                .isInstanceOf(PolicyBlockedException.class);

        assertThat(model.requests()).as("requests the model received").isEmpty();
        assertThat(desk.history("carol", id, 1, 20).items()).as("stored messages").isEmpty();
    }

    @Test
    void anEmailAddressIsRedactedInWhatTheModelReadsWhatTheCustomerGetsAndWhatIsStored() {
        ScriptedModel model = ScriptedModel.builder().replies("Write to jane.doe@example.com for refunds.").build();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);

        Reply reply = desk.ask("carol", id, "m-1", "Who handles refunds? I am carol@example.org.", List.of());

        assertThat(model.lastRequestTexts()).last().isEqualTo("Who handles refunds? I am [REDACTED:PII_EMAIL].");
        assertThat(reply.text()).isEqualTo("Write to [REDACTED:PII_EMAIL] for refunds.");
        assertThat(desk.history("carol", id, 1, 20).items()).extracting(Message::text).containsExactly(
                "Who handles refunds? I am [REDACTED:PII_EMAIL].", "Write to [REDACTED:PII_EMAIL] for refunds.");
    }

    @Test
    void historyComesInPagesOldestFirst() {
        SupportAssistant desk = desk(ScriptedModel.builder().replies("A1", "A2", "A3").build());
        String id = desk.start("carol", PERSONALITY);
        desk.ask("carol", id, "m-1", "Q1", List.of());
        desk.ask("carol", id, "m-2", "Q2", List.of());
        desk.ask("carol", id, "m-3", "Q3", List.of());

        Page<Message> first = desk.history("carol", id, 1, 4);
        Page<Message> second = desk.history("carol", id, 2, 4);

        assertThat(first.items()).extracting(Message::text).containsExactly("Q1", "A1", "Q2", "A2");
        assertThat(first.items()).extracting(Message::role)
                .containsExactly(Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT);
        assertThat(second.items()).extracting(Message::text).containsExactly("Q3", "A3");
        assertThat(first.totalElements()).isEqualTo(6);
        assertThat(first.totalPages()).isEqualTo(2);
    }

    @Test
    void aRetriedMessageIdIsAnsweredFromTheStoreWithoutASecondModelCall() {
        ScriptedModel model = ScriptedModel.builder().replies("Open Settings > Security.").build();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);

        Reply first = desk.ask("carol", id, "m-1", "How do I reset my password?", List.of(RESET_ARTICLE));
        Reply retry = desk.ask("carol", id, "m-1", "How do I reset my password?", List.of(RESET_ARTICLE));

        assertThat(model.callCount()).isEqualTo(1);
        assertThat(retry.replayed()).isTrue();
        assertThat(retry.text()).isEqualTo(first.text());
        assertThat(retry.messageId()).isEqualTo(first.messageId());
        assertThat(desk.history("carol", id, 1, 20).totalElements()).isEqualTo(2);
    }

    @Test
    void usageTotalsAConversationsTurnsTokensAndCreditsWhileARetryOrABlockedQuestionCostsNothing() {
        SupportAssistant desk = desk(ScriptedModel.builder().replyWith(r -> "Done.").usage(30, 5).build());
        String id = desk.start("carol", PERSONALITY);
        String other = desk.start("carol", PERSONALITY);

        desk.ask("carol", id, "m-1", "Q1", List.of());
        desk.ask("carol", id, "m-1", "Q1", List.of());
        Reply second = desk.ask("carol", id, "m-2", "Q2", List.of());
        desk.ask("carol", other, "m-1", "Elsewhere", List.of());
        assertThatThrownBy(() -> desk.ask("carol", id, "m-3", "My key: AKIAIOSFODNN7EXAMPLE", List.of()))
                .isInstanceOf(PolicyBlockedException.class);

        // Each answered turn: 30 tokens in at 0.15 and 5 tokens out at 0.60 per thousand, 0.0075 credits; the
        // blocked one is a turn of no tokens.
        assertThat(desk.usage("carol", id)).isEqualTo(new ConversationUsage(3, 60, 10, new BigDecimal("0.015000000")));
        assertThat(second.usage()).isEqualTo(new Usage(30, 5));
        assertThat(second.credits().used()).isEqualByComparingTo("0.0075");
        assertThat(second.credits().remaining()).as("the desk's balance after the conversation's two turns")
                .isEqualByComparingTo("99.985");
        assertThat(desk.addCredits(BigDecimal.ONE, "top-up"))
                .as("after both conversations' three turns").isEqualByComparingTo("100.9775");
    }

    @Test
    void aTurnTheDesksCreditsCannotCoverIsRefusedBeforeTheModelCall() {
        ScriptedModel model = ScriptedModel.echo();
        opened = new SupportAssistant(model, JdbcConversationStore.h2File(dir.resolve("unfunded")));
        String id = opened.start("carol", PERSONALITY);

        assertThatThrownBy(() -> opened.ask("carol", id, "m-1", "Hello?", List.of()))
                .isInstanceOfSatisfying(BudgetExceededException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.BUDGET_EXCEEDED));
        assertThat(model.callCount()).isZero();
    }

    @Test
    void conversationsAndCreditsOutliveARestartOnTheSameFile() {
        Path file = dir.resolve("restart");
        String id;
        try (SupportAssistant before = new SupportAssistant(ScriptedModel.echo(), JdbcConversationStore.h2File(file))) {
            before.addCredits(new BigDecimal("10"), "test plan");
            id = before.start("carol", PERSONALITY);
            before.ask("carol", id, "m-1", "Q1", List.of());
        }

        ScriptedModel model = ScriptedModel.echo();
        opened = new SupportAssistant(model, JdbcConversationStore.h2File(file));
        Reply reply = opened.ask("carol", id, "m-2", "Q2", List.of());

        assertThat(model.lastRequestTexts()).containsExactly(PERSONALITY, "Q1", "echo: Q1", "Q2");
        assertThat(reply.credits().remaining()).as("the same account, charged for both turns")
                .isLessThan(new BigDecimal("10")).isEqualByComparingTo(new BigDecimal("10").subtract(
                        opened.usage("carol", id).credits()));
    }

    @Test
    void aStreamDeliversTheAnswerInPiecesAndStoresIt() throws Exception {
        // Longer than the 256 characters the policies hold back while they check a stream, so pieces go out early.
        String answer = "Open Settings, then Security, then Reset, and follow the e-mail you get. ".repeat(6);
        ScriptedModel model = ScriptedModel.builder().replies(answer).build();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);
        Collector listener = new Collector();

        desk.stream("carol", id, "m-1", "How do I reset my password?", List.of(RESET_ARTICLE), listener);
        Reply reply = listener.reply.get(10, TimeUnit.SECONDS);

        assertThat(reply.text()).isEqualTo(answer);
        assertThat(listener.text()).isEqualTo(answer);
        assertThat(listener.deltaCount()).as("deltas delivered").isGreaterThan(1);
        assertThat(model.lastRequestTexts())
                .containsExactly(PERSONALITY, RESET_ARTICLE, "How do I reset my password?");
        assertThat(desk.history("carol", id, 1, 20).items()).extracting(Message::text)
                .containsExactly("How do I reset my password?", reply.text());
    }

    @Test
    void anEmailAddressInAStreamedAnswerNeverReachesTheListenerInAnyPiece() throws Exception {
        String answer = "Write to our billing team at billing.help@example.com and quote your invoice number. "
                + "They answer within a day. ".repeat(10) + "Or mail jane.doe@example.org directly.";
        SupportAssistant desk = desk(ScriptedModel.builder().replies(answer).chunkDelay(Duration.ofMillis(1)).build());
        String id = desk.start("carol", PERSONALITY);
        Collector listener = new Collector();

        desk.stream("carol", id, "m-1", "Who handles invoices?", List.of(), listener);
        Reply reply = listener.reply.get(10, TimeUnit.SECONDS);

        assertThat(listener.deltaCount()).isGreaterThan(1);
        assertThat(listener.text()).as("no piece of an address, split across deltas or not")
                .isEqualTo(answer.replace("billing.help@example.com", "[REDACTED:PII_EMAIL]")
                        .replace("jane.doe@example.org", "[REDACTED:PII_EMAIL]"))
                .isEqualTo(reply.text());
        assertThat(desk.history("carol", id, 1, 20).items().get(1).text()).isEqualTo(reply.text());
    }

    @Test
    void aCancelledStreamKeepsWhatWasDeliveredAsACancelledAnswer() throws Exception {
        String longAnswer = "Step by step: open the settings page and read on. ".repeat(40);
        CountDownLatch modelCalled = new CountDownLatch(1);
        SupportAssistant desk = desk(ScriptedModel.builder().chunkDelay(Duration.ofMillis(25))
                .replyWith(r -> {
                    modelCalled.countDown();
                    return longAnswer;
                }).build());
        String id = desk.start("carol", PERSONALITY);
        Collector listener = new Collector();

        desk.stream("carol", id, "m-1", "Walk me through it", List.of(), listener);
        assertThat(modelCalled.await(10, TimeUnit.SECONDS)).as("the model was called").isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (listener.text().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(listener.text()).as("a first piece arrived before the cancel").isNotEmpty();
        desk.cancel("carol", id, "m-1");
        Reply reply = listener.reply.get(10, TimeUnit.SECONDS);

        assertThat(reply.status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(reply.text()).isNotEmpty().isEqualTo(listener.text()).hasSizeLessThan(longAnswer.length());
        Message stored = desk.history("carol", id, 1, 20).items().get(1);
        assertThat(stored.status()).isEqualTo(MessageStatus.CANCELLED);
        assertThat(stored.text()).isEqualTo(reply.text());
    }

    @Test
    void aCustomerCannotReachAnotherCustomersConversation() {
        ScriptedModel model = ScriptedModel.echo();
        SupportAssistant desk = desk(model);
        String carols = desk.start("carol", PERSONALITY);

        assertThatThrownBy(() -> desk.ask("dave", carols, "m-1", "What did Carol ask?", List.of()))
                .isInstanceOf(AccessDeniedException.class);
        assertThatThrownBy(() -> desk.history("dave", carols, 1, 20)).isInstanceOf(AccessDeniedException.class);
        assertThat(model.callCount()).isZero();
    }

    @Test
    void badInputIsRefusedNamingTheField() {
        ScriptedModel model = ScriptedModel.echo();
        SupportAssistant desk = desk(model);
        String id = desk.start("carol", PERSONALITY);

        assertThatThrownBy(() -> desk.start(" ", PERSONALITY))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("userId"));
        assertThatThrownBy(() -> desk.ask("carol", id, "", "Hello", List.of()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("id"));
        assertThatThrownBy(() -> desk.ask("carol", id, "m-1", " ", List.of()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("text"));
        assertThatThrownBy(() -> desk.history("carol", id, 0, 20))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("page"));
        assertThat(model.callCount()).isZero();
    }

    @Test
    void theRealLangChain4jOpenAiAdapterAnswersATurnOverHttp() {
        try (FakeOpenAi openAi = new FakeOpenAi();
             SupportAssistant desk = new SupportAssistant(OpenAiChatModel.builder()
                     .baseUrl(openAi.baseUrl()).apiKey("sk-test-123").modelName("gpt-4o-mini").maxRetries(0).build(),
                     dir.resolve("openai"))) {
            desk.addCredits(new BigDecimal("100"), "test plan");
            String id = desk.start("carol", PERSONALITY);

            Reply reply = desk.ask("carol", id, "m-1", "How do I reset my password?", List.of(RESET_ARTICLE));

            assertThat(reply.text()).isEqualTo(FakeOpenAi.reply("How do I reset my password?"));
            assertThat(reply.usage()).isEqualTo(new Usage(FakeOpenAi.PROMPT_TOKENS, FakeOpenAi.COMPLETION_TOKENS));
            // 31 tokens in at 0.15 and 9 tokens out at 0.60 per thousand.
            assertThat(reply.credits().used()).isEqualByComparingTo("0.01005");
            FakeOpenAi.Received request = openAi.last();
            assertThat(request.authorization()).isEqualTo("Bearer sk-test-123");
            assertThat(request.body().get("model").asText()).isEqualTo("gpt-4o-mini");
            assertThat(request.messages()).containsExactly("system: " + PERSONALITY, "system: " + RESET_ARTICLE,
                    "user: How do I reset my password?");
            assertThat(desk.history("carol", id, 1, 20).items()).extracting(Message::text)
                    .containsExactly("How do I reset my password?", reply.text());
        }
    }

    /** Collects a stream's deltas and its terminal event. */
    private static final class Collector implements StreamListener {
        final CompletableFuture<Reply> reply = new CompletableFuture<>();
        private final StringBuilder deltas = new StringBuilder();
        private int count;

        @Override
        public synchronized void onDelta(String delta) {
            deltas.append(delta);
            count++;
        }

        @Override
        public void onComplete(Reply completed) {
            reply.complete(completed);
        }

        @Override
        public void onError(RuntimeException error) {
            reply.completeExceptionally(error);
        }

        synchronized String text() {
            return deltas.toString();
        }

        synchronized int deltaCount() {
            return count;
        }
    }
}
