package dev.parley.samples.server;

import dev.parley.api.spi.ModelProvider;
import dev.parley.api.values.ModelMessage;
import dev.parley.api.values.ModelRequest;
import dev.parley.api.values.ModelResponse;
import dev.parley.api.values.StreamingHandler;
import dev.parley.samples.server.config.ServerConfig;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The offline model of the {@code demo} provider: it answers every prompt at once, without a network or an API key,
 * with a reply that shows what the engine sent it (the prompt, how much history and context). It reports no usage,
 * so the engine counts the tokens. A stream is delivered word by word, with an optional pause between words, and
 * stops early when cancelled. Thread safe.
 */
public final class DemoModel implements ModelProvider {
    private static final int QUOTE_LENGTH = 120;

    /** A pause between words that makes a stream long enough to watch, and to stop part way: what the samples use. */
    public static final Duration WATCHABLE_PAUSE = Duration.ofMillis(30);

    private final Duration pauseBetweenWords;
    private final String afterword;

    /**
     * A demo model with {@code pauseBetweenWords} between the words of a stream, and {@code afterword} after every
     * reply (none when empty). A reply shorter than what the output policies hold back while a reply streams (256
     * characters for the secrets and PII policies) reaches the caller at once, at its end; an afterword makes the
     * reply long enough to be seen streaming, and to be cancelled part way.
     */
    public DemoModel(Duration pauseBetweenWords, String afterword) {
        this.pauseBetweenWords = Objects.requireNonNull(pauseBetweenWords, "pauseBetweenWords");
        this.afterword = Objects.requireNonNull(afterword, "afterword").strip();
        if (pauseBetweenWords.isNegative()) {
            throw new IllegalArgumentException("pauseBetweenWords must not be negative, was " + pauseBetweenWords);
        }
    }

    /** A demo model with {@code pauseBetweenWords} between the words of a stream. */
    public DemoModel(Duration pauseBetweenWords) {
        this(pauseBetweenWords, "");
    }

    /** A demo model that streams without pauses. */
    public DemoModel() {
        this(Duration.ZERO);
    }

    @Override
    public ModelResponse chat(ModelRequest request) {
        return new ModelResponse(reply(request), null);
    }

    @Override
    public void stream(ModelRequest request, StreamingHandler handler) {
        String text = reply(request);
        StringBuilder sent = new StringBuilder();
        try {
            for (String word : text.split("(?<= )")) {
                if (handler.cancelled()) {
                    break;
                }
                handler.onDelta(word);
                sent.append(word);
                if (!pauseBetweenWords.isZero()) {
                    Thread.sleep(pauseBetweenWords.toMillis());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        handler.onComplete(new ModelResponse(sent.toString(), null));
    }

    private String reply(ModelRequest request) {
        String reply = standardReply(request);
        return afterword.isEmpty() ? reply : reply + " " + afterword;
    }

    private static String standardReply(ModelRequest request) {
        List<ModelMessage> messages = request.messages();
        String prompt = "";
        int history = 0;
        int system = 0;
        for (int i = 0; i < messages.size(); i++) {
            ModelMessage m = messages.get(i);
            if (i == messages.size() - 1 && m.role() == ModelMessage.Role.USER) {
                prompt = m.text();
            } else if (m.role() == ModelMessage.Role.SYSTEM) {
                system++;
            } else {
                history++;
            }
        }
        String quote = prompt.codePointCount(0, prompt.length()) > QUOTE_LENGTH
                ? prompt.substring(0, prompt.offsetByCodePoints(0, QUOTE_LENGTH)) + "…"
                : prompt;
        return "This is the offline demo model. You said: \"" + quote + "\". I can see " + history
                + " earlier message" + (history == 1 ? "" : "s") + " of this conversation and " + system
                + " system message" + (system == 1 ? "" : "s") + ".";
    }

    /**
     * A demo model for each model of {@code config} whose provider is {@code demo}, by name, each with
     * {@code pauseBetweenWords} and {@code afterword}: what a sample passes to {@code SampleEngine.open} so that its
     * demo replies stream visibly.
     */
    public static Map<String, ModelProvider> forDemoModelsOf(ServerConfig config, Duration pauseBetweenWords,
                                                             String afterword) {
        Map<String, ModelProvider> models = new HashMap<>();
        for (ServerConfig.Model model : config.models()) {
            if ("demo".equals(model.provider()) && model.name() != null) {
                models.put(model.name(), new DemoModel(pauseBetweenWords, afterword));
            }
        }
        return models;
    }

    @Override
    public String toString() {
        return "DemoModel";
    }
}
