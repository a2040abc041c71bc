package dev.parley.samples.boot;

import dev.parley.api.spi.ModelProvider;
import dev.parley.testing.ScriptedModel;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;

/**
 * A Spring Boot web application on Parley's starter: the starter makes the {@code ConversationEngine} bean from
 * this class's model bean and the {@code parley.*} properties, and {@link ConversationController} answers turns over
 * HTTP with it.
 *
 * <p>The model is a scripted one, so that the application runs without a provider's key: with a LangChain4j
 * starter's {@code ChatModel} bean instead (for example {@code langchain4j-open-ai-spring-boot-starter}), remove
 * {@link #demoModel()} and the engine uses that model under its bean name.
 */
@SpringBootApplication
public class ParleyBootSample {
    /** The model's reply to a question: the question, quoted. */
    static final String REPLY_PREFIX = "You asked: ";

    /** Made by Spring. */
    public ParleyBootSample() {
    }

    /** Starts the application. */
    public static void main(String[] args) {
        SpringApplication.run(ParleyBootSample.class, args);
    }

    /** The demo model, registered with the engine as {@code demoModel}: it quotes the question it was asked. */
    @Bean
    public ModelProvider demoModel() {
        return ScriptedModel.builder()
                .replyWith(request -> REPLY_PREFIX + request.messages().get(request.messages().size() - 1).text())
                .build();
    }
}
