package dev.parley.spring.boot;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.parley.api.spi.ModelProvider;
import dev.parley.core.LangChain4jModel;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models the auto-configured engine registers, each under its bean name, in bean order: every Parley
 * {@link ModelProvider} bean as it is, and every LangChain4j {@link ChatModel} bean adapted with
 * {@link LangChain4jModel}, paired with a {@link StreamingChatModel} bean for streams when one belongs to it:
 * the same object; else the only streaming bean beside the only chat bean; else the streaming bean named as the
 * LangChain4j Spring Boot starters name it ({@code openAiChatModel} and {@code openAiStreamingChatModel}). A chat
 * model without a streaming partner streams its whole answer as one delta. A streaming model with no chat model
 * to pair with is left out, with a warning: Parley needs a chat model for {@code send}.
 *
 * <p>Also chooses the default model: {@code parley.default-model}; else the only model; else the only primary
 * model bean; otherwise a {@link ParleyConfigurationException}, as when there is no model at all.
 */
public final class ParleyModels {
    private static final Logger log = LoggerFactory.getLogger(ParleyModels.class);

    private final Map<String, ModelProvider> models;
    private final String defaultModel;

    private ParleyModels(Map<String, ModelProvider> models, String defaultModel) {
        this.models = Collections.unmodifiableMap(models);
        this.defaultModel = defaultModel;
    }

    /**
     * Models chosen by the application itself, for a {@code ParleyModels} bean of its own.
     *
     * @throws IllegalArgumentException when there is no model or {@code defaultModel} is none of them
     */
    public static ParleyModels of(Map<String, ? extends ModelProvider> models, String defaultModel) {
        if (models.isEmpty() || !models.containsKey(defaultModel)) {
            throw new IllegalArgumentException("defaultModel " + defaultModel + " must be one of " + models.keySet());
        }
        return new ParleyModels(new LinkedHashMap<>(models), defaultModel);
    }

    /** The models by registered name, in bean order. */
    public Map<String, ModelProvider> models() {
        return models;
    }

    /** The name of the model of turns that name none. */
    public String defaultModel() {
        return defaultModel;
    }

    @Override
    public String toString() {
        return "ParleyModels" + models.keySet() + " default " + defaultModel;
    }

    /**
     * Finds the models among the beans of {@code beans}.
     *
     * @throws ParleyConfigurationException when there is none, or no default can be chosen
     */
    static ParleyModels from(ListableBeanFactory beans, ParleyProperties properties) {
        Map<String, ModelProvider> models = new LinkedHashMap<>(beans.getBeansOfType(ModelProvider.class));
        Map<String, ChatModel> chats = beans.getBeansOfType(ChatModel.class);
        Map<String, StreamingChatModel> streams = new LinkedHashMap<>(beans.getBeansOfType(StreamingChatModel.class));
        List<String> chatNames = new ArrayList<>(chats.keySet());
        for (String name : chatNames) {
            ChatModel chat = chats.get(name);
            String partner = partnerOf(name, chat, chatNames.size(), streams);
            LangChain4jModel model = partner == null
                    ? LangChain4jModel.of(chat)
                    : LangChain4jModel.of(chat, streams.remove(partner));
            ParleyProperties.Model settings = properties.getModels().get(name);
            if (settings != null && settings.getContextWindow() != null) {
                model = model.withContextWindow(settings.getContextWindow());
            }
            models.put(name, model);
        }
        streams.keySet().forEach(name -> log.warn("StreamingChatModel bean {} is not registered with Parley: no "
                + "ChatModel bean pairs with it (name the ChatModel bean as it, with Streaming left out)", name));
        for (String configured : properties.getModels().keySet()) {
            if (!models.containsKey(configured)) {
                throw new ParleyConfigurationException("parley.models." + configured + " names no model; the "
                        + "models are " + models.keySet(), "Name a model bean, or remove parley.models." + configured);
            }
        }
        if (models.isEmpty()) {
            throw new ParleyConfigurationException("there is no model: the application has no LangChain4j "
                    + "ChatModel bean and no Parley ModelProvider bean",
                    "Define a ChatModel bean (for example through a LangChain4j Spring Boot starter) or a "
                            + "ModelProvider bean, or define your own ConversationEngine bean.");
        }
        return new ParleyModels(models, chooseDefault(beans, properties, models));
    }

    private static @Nullable String partnerOf(String chatName, ChatModel chat, int chatCount,
                                              Map<String, StreamingChatModel> streams) {
        for (Map.Entry<String, StreamingChatModel> e : streams.entrySet()) {
            if (e.getValue() == (Object) chat) {
                return e.getKey();
            }
        }
        if (chatCount == 1 && streams.size() == 1) {
            return streams.keySet().iterator().next();
        }
        String byName = chatName.replace("ChatModel", "StreamingChatModel");
        return !byName.equals(chatName) && streams.containsKey(byName) ? byName : null;
    }

    private static String chooseDefault(ListableBeanFactory beans, ParleyProperties properties,
                                        Map<String, ModelProvider> models) {
        String configured = properties.getDefaultModel();
        if (configured != null && !configured.isBlank()) {
            if (!models.containsKey(configured)) {
                throw new ParleyConfigurationException("parley.default-model is " + configured
                        + ", which is no model; the models are " + models.keySet(),
                        "Set parley.default-model to one of " + models.keySet() + ".");
            }
            return configured;
        }
        if (models.size() == 1) {
            return models.keySet().iterator().next();
        }
        List<String> primary = new ArrayList<>();
        if (beans instanceof ConfigurableListableBeanFactory factory) {
            for (String name : models.keySet()) {
                if (factory.containsBeanDefinition(name) && factory.getBeanDefinition(name).isPrimary()) {
                    primary.add(name);
                }
            }
        }
        if (primary.size() == 1) {
            return primary.get(0);
        }
        throw new ParleyConfigurationException("there are " + models.size() + " models " + models.keySet()
                + " and no default among them",
                "Set parley.default-model to one of " + models.keySet() + ", or mark one model bean @Primary.");
    }
}
