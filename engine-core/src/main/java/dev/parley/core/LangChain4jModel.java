package dev.parley.core;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.TokenCountEstimator;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ResponseFormat;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.TokenUsage;
import dev.parley.api.ModelParameters;
import dev.parley.api.Usage;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.TokenCounter;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Adapts a LangChain4j {@link ChatModel}, and optionally its {@link StreamingChatModel} (OpenAI, Anthropic,
 * Ollama, ... as configured by the host, with its own API key, timeouts and retries) to Parley. The name a model
 * is registered under in Parley is a label; the LangChain4j model keeps its own configured model name, and tokens
 * are counted by that name ({@link #modelName()}), so {@code gpt-4} registered as {@code "support-bot"} is
 * counted with gpt-4's encoding. Thread safe when the wrapped model is, as LangChain4j's
 * models are.
 *
 * <pre>{@code
 * ChatModel openAi = OpenAiChatModel.builder().apiKey(key).modelName("gpt-4o-mini").build();
 * ConversationEngine engine = ConversationEngine.builder().model("gpt-4o-mini", LangChain4jModel.of(openAi)).build();
 * }</pre>
 */
public final class LangChain4jModel implements ModelProvider {
    private final ChatModel chatModel;
    private final StreamingChatModel streamingModel;
    private final TokenCountEstimator estimator;
    /** The declared context window in tokens, or 0 for the engine's default. */
    private final int contextWindow;

    private LangChain4jModel(ChatModel chatModel, StreamingChatModel streamingModel, TokenCountEstimator estimator,
                             int contextWindow) {
        this.chatModel = chatModel;
        this.streamingModel = streamingModel;
        this.estimator = estimator;
        this.contextWindow = contextWindow;
    }

    /**
     * Adapts a chat model; tokens are counted by the engine's default estimator. Streams are served by one
     * {@code chat} call delivered as a single delta.
     */
    public static LangChain4jModel of(ChatModel chatModel) {
        return new LangChain4jModel(Objects.requireNonNull(chatModel, "chatModel"), null, null, 0);
    }

    /** Adapts a chat model for {@code send} and a streaming chat model (usually the same model) for streams. */
    public static LangChain4jModel of(ChatModel chatModel, StreamingChatModel streamingModel) {
        return new LangChain4jModel(Objects.requireNonNull(chatModel, "chatModel"),
                Objects.requireNonNull(streamingModel, "streamingModel"), null, 0);
    }

    /** The same model with its own token count estimator (for models whose tokenizer is not OpenAI's). */
    public LangChain4jModel withTokenCountEstimator(TokenCountEstimator tokenCountEstimator) {
        return new LangChain4jModel(chatModel, streamingModel,
                Objects.requireNonNull(tokenCountEstimator, "tokenCountEstimator"), contextWindow);
    }

    /**
     * The same model with its context window declared, in tokens (for example 128,000 for gpt-4o-mini, 8,192
     * for gpt-4). A turn may then ask for at most this much history, and a prompt that cannot fit it is refused
     * before the call. Without it the engine's default window applies.
     */
    public LangChain4jModel withContextWindow(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("context window must be at least 1 token, was " + tokens);
        }
        return new LangChain4jModel(chatModel, streamingModel, estimator, tokens);
    }

    @Override
    public ModelResponse chat(ModelRequest request) {
        ChatResponse response = chatModel.chat(chatRequest(request));
        AiMessage ai = response.aiMessage();
        String text = ai == null || ai.text() == null ? "" : ai.text();
        return new ModelResponse(text, usage(response.tokenUsage()));
    }

    /**
     * Streams through the streaming chat model when there is one. A cancel is passed to LangChain4j's
     * {@code StreamingHandle} at the next partial response, which closes the provider's connection, and the
     * handler is told the stream is complete with what had arrived.
     */
    @Override
    public void stream(ModelRequest request, StreamingHandler handler) {
        if (streamingModel == null) {
            ModelProvider.super.stream(request, handler);
            return;
        }
        ChatRequest chatRequest = chatRequest(request);
        streamingModel.chat(chatRequest, new StreamingChatResponseHandler() {
            private final StringBuilder received = new StringBuilder();
            private boolean stopped;

            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                if (stopped) {
                    return;
                }
                if (!handler.cancelled() && partial.text() != null) {
                    handler.onDelta(partial.text());
                    received.append(partial.text());
                }
                if (handler.cancelled()) {
                    stopped = true;
                    context.streamingHandle().cancel();
                    handler.onComplete(new ModelResponse(received.toString(), null));
                }
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                if (stopped) {
                    return;
                }
                AiMessage ai = response.aiMessage();
                String text = ai == null || ai.text() == null ? received.toString() : ai.text();
                handler.onComplete(new ModelResponse(text, usage(response.tokenUsage())));
            }

            @Override
            public void onError(Throwable error) {
                if (!stopped) {
                    handler.onError(error);
                }
            }
        });
    }

    @Override
    public Optional<TokenCounter> tokenCounter() {
        if (estimator == null) {
            return Optional.empty();
        }
        TokenCountEstimator e = estimator;
        return Optional.of(text -> text.isEmpty() ? 0 : e.estimateTokenCountInText(text));
    }

    /**
     * The model name the LangChain4j model was configured with ({@code OpenAiChatModel.builder().modelName(...)}),
     * read from its default request parameters; it picks the default token counter's encoding.
     */
    @Override
    public Optional<String> modelName() {
        try {
            var parameters = chatModel.defaultRequestParameters();
            String name = parameters == null ? null : parameters.modelName();
            return name == null || name.isBlank() ? Optional.empty() : Optional.of(name);
        } catch (RuntimeException e) {
            // A model class whose parameters cannot be read: fall back to the registered name.
            return Optional.empty();
        }
    }

    @Override
    public java.util.OptionalInt contextWindow() {
        return contextWindow == 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(contextWindow);
    }

    /**
     * LangChain4j's request: the messages, and each model parameter the turn sets as LangChain4j's request
     * parameter of the same meaning (the model's own configuration supplies the rest).
     */
    static ChatRequest chatRequest(ModelRequest request) {
        ChatRequest.Builder b = ChatRequest.builder().messages(toLangChain4j(request.messages()));
        ModelParameters p = request.parameters();
        if (p.maxOutputTokens().isPresent()) {
            b.maxOutputTokens(p.maxOutputTokens().getAsInt());
        }
        if (p.temperature().isPresent()) {
            b.temperature(p.temperature().getAsDouble());
        }
        if (!p.stopSequences().isEmpty()) {
            b.stopSequences(p.stopSequences());
        }
        p.responseFormat().ifPresent(format -> b.responseFormat(format == ModelParameters.ResponseFormat.JSON
                ? ResponseFormat.JSON : ResponseFormat.TEXT));
        return b.build();
    }

    static List<ChatMessage> toLangChain4j(List<ModelMessage> messages) {
        List<ChatMessage> out = new ArrayList<>(messages.size());
        for (ModelMessage m : messages) {
            out.add(switch (m.role()) {
                case SYSTEM -> SystemMessage.from(m.text());
                case USER -> UserMessage.from(m.text());
                case ASSISTANT -> AiMessage.from(m.text());
            });
        }
        return out;
    }

    /** The provider's usage when it reported both counts, else null (the engine then estimates). */
    static Usage usage(TokenUsage usage) {
        if (usage == null || usage.inputTokenCount() == null || usage.outputTokenCount() == null) {
            return null;
        }
        return new Usage(usage.inputTokenCount(), usage.outputTokenCount());
    }

    @Override
    public String toString() {
        return "LangChain4jModel[" + chatModel.getClass().getSimpleName() + "]";
    }
}
