package dev.parley.core.internal;

import dev.langchain4j.model.openai.OpenAiTokenCountEstimator;
import dev.parley.api.spi.TokenCounter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * LangChain4j's token count estimator (jtokkit) per model name (the provider's own name of the model, see
 * {@code ModelProvider.modelName()}): the model's own encoding when LangChain4j knows the name, else the o200k
 * encoding of current OpenAI models, which is logged once per name at INFO. Encoders are built on first use of a
 * name, not at class load. Thread safe.
 */
final class DefaultTokenCounter {
    private static final Logger LOG = LoggerFactory.getLogger(DefaultTokenCounter.class);
    private static final String FALLBACK_MODEL = "gpt-4o";

    private final ConcurrentMap<String, TokenCounter> byModel = new ConcurrentHashMap<>();

    TokenCounter forModel(String modelName) {
        return byModel.computeIfAbsent(modelName, DefaultTokenCounter::create);
    }

    private static TokenCounter create(String modelName) {
        OpenAiTokenCountEstimator estimator;
        try {
            estimator = new OpenAiTokenCountEstimator(modelName);
        } catch (RuntimeException e) {
            // Once per model name and engine: the counter is kept per name.
            LOG.info("No tokenizer known for model {}; counting its tokens with {}'s encoding (o200k). Register "
                    + "a TokenCounter for exact counts", modelName, FALLBACK_MODEL);
            estimator = new OpenAiTokenCountEstimator(FALLBACK_MODEL);
        }
        OpenAiTokenCountEstimator chosen = estimator;
        return text -> text.isEmpty() ? 0 : chosen.estimateTokenCountInText(text);
    }
}
