package dev.parley.samples.embedding;

import dev.langchain4j.model.chat.ChatModel;
import dev.parley.api.BudgetExceededException;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.Conversations;
import dev.parley.api.CreditAccounts;
import dev.parley.api.Message;
import dev.parley.api.NewConversation;
import dev.parley.api.Page;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.StreamHandle;
import dev.parley.api.StreamListener;
import dev.parley.api.credits.AccountOwner;
import dev.parley.api.credits.ModelPrice;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.spi.ConversationStore;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.usage.UsageQuery;
import dev.parley.api.usage.UsageRow;
import dev.parley.core.LangChain4jModel;
import dev.parley.policy.PiiPolicy;
import dev.parley.policy.SecretsPolicy;
import dev.parley.store.jdbc.JdbcConversationStore;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Objects;

/**
 * A support desk's assistant on Parley, written the way a host application writes it: one engine for the whole
 * application, built once; one small method per feature the desk needs; closed at shutdown. Copy it and rename.
 *
 * <ul>
 *   <li>Each customer is a {@link Caller} of the desk's organization and a member of its one workspace, so a
 *       customer reaches only their own conversations.</li>
 *   <li>A credential in a question or an article (an API key, a private key) blocks the turn before the model is
 *       called. E-mail addresses, phone numbers, card numbers and IBANs are redacted: in the question before the
 *       model sees it, in the answer before the customer does, and so in what is stored.</li>
 *   <li>Every turn is charged to the desk's prepaid credit account ({@link #addCredits}) at {@link #PRICE}; a turn
 *       that could cost more than is left is refused with {@link BudgetExceededException}.</li>
 *   <li>Each question carries the client's message id: a retry with the same id is answered from the store with
 *       no second model call and no second charge, and the id is what stops a stream ({@link #cancel}).</li>
 * </ul>
 *
 * <pre>{@code
 * ChatModel openAi = OpenAiChatModel.builder().apiKey(key).modelName("gpt-4o-mini").build();
 * try (SupportAssistant desk = new SupportAssistant(openAi, Path.of("data/support"))) {
 *     desk.addCredits(new BigDecimal("100"), "December plan");
 *     String id = desk.start("carol", "You are Acme's support desk. Be brief and friendly.");
 *     Reply r = desk.ask("carol", id, "m-1", "How do I reset my password?",
 *             List.of("Passwords are reset under Settings > Security."));
 * }
 * }</pre>
 *
 * <p>Bad input is refused by Parley with an {@link dev.parley.api.InvalidRequestException} naming its own field:
 * {@code userId} for a customer id, {@code id} for a message id, {@code text} for a question,
 * {@code additionalContext} for an article, {@code page} and {@code size} for a history page.
 *
 * <p>Thread safe: every method may be called from any thread, as the engine behind them may.
 */
public final class SupportAssistant implements AutoCloseable {
    /** The desk's organization, which every customer belongs to. */
    public static final String ORGANIZATION = "acme";
    /** The workspace every support conversation is in. */
    public static final String WORKSPACE = "support";
    /** The name the model is registered under, reported by each {@link Reply#model()}. */
    public static final String MODEL = "support-model";
    /** What a turn costs: 0.15 credits per 1,000 input tokens and 0.60 per 1,000 output tokens. */
    public static final ModelPrice PRICE = ModelPrice.perThousand("0.15", "0.60");

    private static final AccountOwner DESK = AccountOwner.organization(ORGANIZATION);

    private final ConversationEngine engine;
    private final String accountId;

    /**
     * An assistant on a LangChain4j chat model (OpenAI, Anthropic, Ollama, ..., configured by the host with its own
     * key and timeouts), keeping its conversations in the embedded H2 database file {@code h2File} (H2 adds
     * {@code .mv.db}). Streams arrive as one delta; for token-by-token streams pass
     * {@code LangChain4jModel.of(chatModel, streamingChatModel)} to the other constructor.
     */
    public SupportAssistant(ChatModel chatModel, Path h2File) {
        this(LangChain4jModel.of(chatModel), JdbcConversationStore.h2File(h2File));
    }

    /**
     * An assistant on any model and store: {@code JdbcConversationStore.of(dataSource)} for the host's own
     * PostgreSQL, which several servers of the desk can share; a scripted model in the host's unit tests. The
     * assistant owns the store and closes it on {@link #close()}.
     */
    public SupportAssistant(ModelProvider model, ConversationStore store) {
        engine = ConversationEngine.builder()
                .store(store)
                .model(MODEL, model)
                .price(MODEL, PRICE)
                .policies(PolicySet.of(
                        PolicyRule.block(SecretsPolicy.standard()).build(),
                        PolicyRule.redact(PiiPolicy.standard()).build()))
                .build();
        try {
            CreditAccounts credits = engine.credits();
            accountId = credits.account(DESK).orElseGet(() -> credits.open(DESK)).id();
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /**
     * Starts a conversation for a customer, the model steered by {@code personality} on each of its turns.
     *
     * @return the conversation's id, for the customer's later calls
     */
    public String start(String customerId, String personality) {
        return customer(customerId)
                .create(NewConversation.inWorkspace(WORKSPACE).personality(personality).build())
                .id();
    }

    /**
     * Answers a customer's question. The model reads, in order: the personality, the conversation's newest history
     * that fits the token budget, the knowledge-base {@code articles} the host found for this question (for this
     * turn only, never stored), and the question.
     *
     * @param messageId the client's id for the question: a retry with the same id returns the stored answer
     *                  without calling the model or charging again
     * @throws PolicyBlockedException when the question or an article holds a credential; the model was not called
     * @throws BudgetExceededException when the desk's credits cannot cover the turn
     * @throws dev.parley.api.ConversationNotFoundException when the customer has no such conversation
     */
    public Reply ask(String customerId, String conversationId, String messageId, String question,
                     List<String> articles) {
        return conversation(customerId, conversationId).send(prompt(messageId, question, articles));
    }

    /**
     * Streams the answer to a customer's question to {@code listener} and returns at once: the listener receives the
     * answer's deltas in order, then exactly one {@link StreamListener#onComplete} (the answer is stored by then) or
     * {@link StreamListener#onError} (nothing of the turn is in the history). Text is delivered only after the policies
     * have checked it, so a redacted e-mail address never reaches the listener. The model reads what
     * {@link #ask} describes.
     *
     * @throws dev.parley.api.ConversationLockedException when the conversation is streaming another answer
     */
    public StreamHandle stream(String customerId, String conversationId, String messageId, String question,
                               List<String> articles, StreamListener listener) {
        return conversation(customerId, conversationId).stream(prompt(messageId, question, articles), listener);
    }

    /**
     * Stops the stream answering {@code messageId}, from any thread and from any server sharing the desk's
     * database; what was delivered so far is stored as the answer, {@link dev.parley.api.MessageStatus#CANCELLED}.
     * A no-op once that stream has ended, so a late click cannot stop the customer's next answer.
     */
    public void cancel(String customerId, String conversationId, String messageId) {
        conversation(customerId, conversationId).cancelStream(messageId);
    }

    /**
     * One page of a conversation's stored messages, oldest first: questions and answers as they were stored, that is
     * redacted. Pages count from 1 and hold 1 to {@value PageRequest#MAX_SIZE} messages.
     */
    public Page<Message> history(String customerId, String conversationId, int page, int size) {
        return conversation(customerId, conversationId).messages(PageRequest.of(page, size));
    }

    /**
     * What a conversation has used over the last {@value UsageQuery#MAX_DAYS} days, from Parley's usage ledger:
     * turns (a replay is not one; a question a policy blocked is one, with no tokens and no credits), tokens the model
     * read and wrote, and credits charged.
     */
    public ConversationUsage usage(String customerId, String conversationId) {
        LocalDate today = LocalDate.now(ZoneOffset.UTC);
        UsageQuery query = UsageQuery.by(UsageQuery.GroupBy.CONVERSATION,
                today.minusDays(UsageQuery.MAX_DAYS - 1), today).inConversation(conversationId);
        ConversationUsage total = ConversationUsage.NONE;
        Page<UsageRow> rows;
        int page = 1;
        do {
            rows = customer(customerId).usage(query, PageRequest.of(page++, PageRequest.MAX_SIZE));
            for (UsageRow day : rows.items()) {
                total = total.plus(day);
            }
        } while (page <= rows.totalPages());
        return total;
    }

    /**
     * Adds credits to the desk's account, which every turn is charged to.
     *
     * @return the balance afterwards
     * @throws dev.parley.api.InvalidRequestException naming {@code amount} unless it is positive with at most 9
     *                                                decimals, or {@code reason} when it is blank
     */
    public BigDecimal addCredits(BigDecimal amount, String reason) {
        return engine.credits().topUp(accountId, amount, reason).balanceAfter();
    }

    /** Cancels running streams (they keep what they have), then closes the engine and its store. Idempotent. */
    @Override
    public void close() {
        engine.close();
    }

    /**
     * What one conversation used.
     *
     * @param turns the turns stored, blocked ones included
     * @param tokensIn the tokens the model read: what the provider bills as input
     * @param tokensOut the tokens the model wrote
     * @param credits the credits charged, at 9 decimals
     */
    public record ConversationUsage(long turns, long tokensIn, long tokensOut, BigDecimal credits) {
        static final ConversationUsage NONE = new ConversationUsage(0, 0, 0, BigDecimal.ZERO);

        public ConversationUsage {
            Objects.requireNonNull(credits, "credits");
        }

        ConversationUsage plus(UsageRow day) {
            return new ConversationUsage(turns + day.requests(), tokensIn + day.tokensIn(),
                    tokensOut + day.tokensOut(), credits.add(day.credits()));
        }
    }

    private Conversations customer(String customerId) {
        return engine.as(Caller.user(customerId, ORGANIZATION).member(WORKSPACE).build());
    }

    private Conversation conversation(String customerId, String conversationId) {
        return customer(customerId).get(conversationId);
    }

    private static Prompt prompt(String messageId, String question, List<String> articles) {
        Objects.requireNonNull(messageId, "messageId");
        return Prompt.text(question).id(messageId).additionalContext(articles).build();
    }
}
