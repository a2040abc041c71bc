package dev.parley.spring.boot;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.Reply;
import dev.parley.api.StreamListener;
import dev.parley.api.Timeouts;
import dev.parley.api.policy.Finding;
import dev.parley.api.policy.PolicyInput;
import dev.parley.api.spi.EngineListener;
import dev.parley.api.spi.ModelProvider;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.TurnResult;
import dev.parley.micrometer.ParleyMetrics;
import dev.parley.opentelemetry.ParleyTracing;
import dev.parley.testing.ScriptedModel;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import javax.sql.DataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The auto-configuration under each condition: no model bean, one, two; a user DataSource; properties overriding
 * the defaults; a user bean replacing a default; metrics and traces when the application has a registry.
 */
class ParleyAutoConfigurationTest {
    private static final Caller ALICE = Caller.user("alice", "acme").member("support").build();

    /** In memory unless a test says otherwise, so that tests leave no file behind. */
    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ParleyAutoConfiguration.class))
            .withPropertyValues("parley.store.type=memory");

    private static String turn(ConversationEngine engine, String text) {
        Conversation c = engine.as(ALICE).create(NewConversation.inWorkspace("support").build());
        return c.send(Prompt.text(text).build()).text();
    }

    @Test
    void withoutAModelBeanStartupFailsSayingSoAndWhatToDo() {
        runner.run(context -> {
            assertThat(context).hasFailed();
            Throwable failure = context.getStartupFailure();
            ParleyConfigurationException cause = rootOfType(failure, ParleyConfigurationException.class);
            assertThat(cause.getMessage()).contains("there is no model");
            assertThat(cause.action()).contains("ChatModel bean");
            FailureAnalysis analysis = new ParleyConfigurationFailureAnalyzer().analyze(failure);
            assertThat(analysis.getDescription()).contains("there is no model");
            assertThat(analysis.getAction()).isEqualTo(cause.action());
        });
    }

    @Test
    void oneChatModelBeanIsTheDefaultModelUnderItsBeanName() {
        runner.withBean("openAiChatModel", ChatModel.class, () -> fixed("from the chat model")).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(ConversationEngine.class);
            ConversationEngine engine = context.getBean(ConversationEngine.class);
            assertThat(engine.config().defaultModel()).isEqualTo("openAiChatModel");
            assertThat(turn(engine, "Hello")).isEqualTo("from the chat model");
        });
    }

    @Test
    void oneScriptedModelBeanAnswersTurns() {
        ScriptedModel model = ScriptedModel.builder().replies("Hi Alice").build();
        runner.withBean("scripted", ModelProvider.class, () -> model).run(context -> {
            assertThat(turn(context.getBean(ConversationEngine.class), "Hello")).isEqualTo("Hi Alice");
            assertThat(model.lastRequestTexts()).last().isEqualTo("Hello");
        });
    }

    @Test
    void aStreamingChatModelBeanServesTheStreamsOfTheChatModelNamedAsIt() throws Exception {
        runner.withBean("openAiChatModel", ChatModel.class, () -> fixed("sent"))
                .withBean("ollamaChatModel", ChatModel.class, () -> fixed("other"))
                .withBean("openAiStreamingChatModel", StreamingChatModel.class, () -> streaming("streamed"))
                .withPropertyValues("parley.default-model=openAiChatModel")
                .run(context -> {
                    ConversationEngine engine = context.getBean(ConversationEngine.class);
                    Conversation c = engine.as(ALICE).create(NewConversation.inWorkspace("support").build());
                    assertThat(c.send(Prompt.text("Hello").build()).text()).isEqualTo("sent");
                    CompletableFuture<Reply> done = new CompletableFuture<>();
                    c.stream(Prompt.text("Hello again").build(), new StreamListener() {
                        @Override
                        public void onDelta(String delta) {
                        }

                        @Override
                        public void onComplete(Reply reply) {
                            done.complete(reply);
                        }

                        @Override
                        public void onError(RuntimeException error) {
                            done.completeExceptionally(error);
                        }
                    });
                    assertThat(done.get(10, TimeUnit.SECONDS).text()).isEqualTo("streamed");
                });
    }

    @Test
    void twoModelBeansWithoutADefaultFailNamingTheProperty() {
        runner.withBean("first", ChatModel.class, () -> fixed("first"))
                .withBean("second", ChatModel.class, () -> fixed("second"))
                .run(context -> {
                    ParleyConfigurationException cause =
                            rootOfType(context.getStartupFailure(), ParleyConfigurationException.class);
                    assertThat(cause.getMessage()).contains("[first, second]");
                    assertThat(cause.action()).contains("parley.default-model");
                });
    }

    @Test
    void twoModelBeansWithADefaultAreBothRegistered() {
        runner.withBean("first", ChatModel.class, () -> fixed("first"))
                .withBean("second", ModelProvider.class, () -> ScriptedModel.builder().replyWith(r -> "second").build())
                .withPropertyValues("parley.default-model=second")
                .run(context -> {
                    ConversationEngine engine = context.getBean(ConversationEngine.class);
                    assertThat(engine.config().models()).extracting(r -> r.name())
                            .containsExactlyInAnyOrder("first", "second");
                    assertThat(turn(engine, "Hello")).isEqualTo("second");
                    Conversation c = engine.as(ALICE).create(NewConversation.inWorkspace("support").build());
                    assertThat(c.send(Prompt.text("Hello").model("first").build()).text()).isEqualTo("first");
                });
    }

    @Test
    void aDefaultModelThatIsNoModelFailsListingTheModels() {
        runner.withBean("first", ChatModel.class, () -> fixed("first"))
                .withPropertyValues("parley.default-model=gpt-5")
                .run(context -> assertThat(rootOfType(context.getStartupFailure(),
                        ParleyConfigurationException.class).getMessage()).contains("gpt-5").contains("[first]"));
    }

    @Test
    void theApplicationsDataSourceKeepsTheConversations() {
        JdbcDataSource dataSource = new JdbcDataSource();
        dataSource.setURL("jdbc:h2:mem:starter-ds;DB_CLOSE_DELAY=-1");
        runner.withPropertyValues("parley.store.type=auto")
                .withBean(DataSource.class, () -> dataSource)
                .withBean("scripted", ModelProvider.class, () -> ScriptedModel.builder().replies("stored").build())
                .run(context -> {
                    assertThat(turn(context.getBean(ConversationEngine.class), "Keep me")).isEqualTo("stored");
                    assertThat(count(dataSource, "select count(*) from parley_message")).isEqualTo(2);
                });
    }

    @Test
    void withoutADataSourceTheStoreIsAnH2FileAtTheConfiguredPath(@TempDir Path dir) {
        Path file = dir.resolve("conversations");
        runner.withPropertyValues("parley.store.type=auto", "parley.store.h2-file=" + file)
                .withBean("scripted", ModelProvider.class, () -> ScriptedModel.builder().replies("kept").build())
                .run(context -> {
                    assertThat(turn(context.getBean(ConversationEngine.class), "Keep me")).isEqualTo("kept");
                    assertThat(Files.exists(dir.resolve("conversations.mv.db"))).isTrue();
                });
    }

    @Test
    void propertiesOverrideTheEnginesDefaults() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withPropertyValues("parley.context-size=1234", "parley.default-context-window=50000",
                        "parley.timeouts.claim-lease=2s", "parley.timeouts.replay-wait=5s",
                        "parley.timeouts.stream-lease=45s", "parley.timeouts.stream-idle=1m")
                .run(context -> {
                    var config = context.getBean(ConversationEngine.class).config();
                    assertThat(config.defaultContextSize()).isEqualTo(1234);
                    assertThat(config.defaultContextWindow()).isEqualTo(50_000);
                    assertThat(config.timeouts()).isEqualTo(new Timeouts(Duration.ofSeconds(45),
                            Duration.ofSeconds(2), Duration.ofSeconds(5), Duration.ofMinutes(1)));
                });
    }

    @Test
    void withoutPropertiesTheEnginesDefaultsApply() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo).run(context -> {
            var config = context.getBean(ConversationEngine.class).config();
            assertThat(config.defaultContextSize()).isEqualTo(ConversationEngine.Builder.DEFAULT_CONTEXT_SIZE);
            assertThat(config.timeouts()).isEqualTo(Timeouts.defaults());
            assertThat(config.policies().isEmpty()).isTrue();
        });
    }

    @Test
    void timeoutsThatDisagreeFailNamingTheProperties() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withPropertyValues("parley.timeouts.claim-lease=30s", "parley.timeouts.replay-wait=5s")
                .run(context -> assertThat(rootOfType(context.getStartupFailure(),
                        ParleyConfigurationException.class).getMessage()).startsWith("parley.timeouts:"));
    }

    @Test
    void aUserConversationEngineReplacesTheDefaultAndNeedsNoModelBean() {
        try (ConversationEngine own = ConversationEngine.builder().model("own", ScriptedModel.echo()).build()) {
            runner.withBean(ConversationEngine.class, () -> own).run(context -> {
                assertThat(context).hasNotFailed().hasSingleBean(ConversationEngine.class);
                assertThat(context.getBean(ConversationEngine.class)).isSameAs(own);
                assertThat(context).doesNotHaveBean(ParleyModels.class);
            });
        }
    }

    @Test
    void aUserParleyModelsBeanReplacesTheModelBeansFound() {
        runner.withBean("ignored", ChatModel.class, () -> fixed("ignored"))
                .withBean(ParleyModels.class, () -> ParleyModels.of(
                        java.util.Map.of("mine", ScriptedModel.builder().replies("mine").build()), "mine"))
                .run(context -> {
                    ConversationEngine engine = context.getBean(ConversationEngine.class);
                    assertThat(engine.config().models()).extracting(r -> r.name()).containsExactly("mine");
                    assertThat(turn(engine, "Hello")).isEqualTo("mine");
                });
    }

    @Test
    void stagePolicyAndListenerBeansTakePartInEveryTurn() {
        AtomicInteger staged = new AtomicInteger();
        AtomicInteger turnsStarted = new AtomicInteger();
        PromptStage stage = new PromptStage() {
            @Override
            public TurnResult intercept(Chain chain) {
                staged.incrementAndGet();
                return chain.proceed(chain.turn());
            }

            @Override
            public String name() {
                return "CountingStage";
            }
        };
        EngineListener listener = new EngineListener() {
            @Override
            public void turnStart(TurnContext turn) {
                turnsStarted.incrementAndGet();
            }
        };
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(PromptStage.class, () -> stage)
                .withBean(EngineListener.class, () -> listener)
                .withBean(Policy.class, ParleyAutoConfigurationTest::forbidden)
                .withPropertyValues("parley.policies.actions.forbidden=block")
                .run(context -> {
                    ConversationEngine engine = context.getBean(ConversationEngine.class);
                    assertThat(engine.config().pipeline().stagesAt(PromptPipeline.Position.BEFORE_CONTEXT))
                            .containsExactly(stage);
                    assertThat(turn(engine, "Hello")).isEqualTo("echo: Hello");
                    assertThatThrownBy(() -> turn(engine, "say forbidden"))
                            .isInstanceOf(PolicyBlockedException.class);
                    assertThat(staged).hasValue(2);
                    assertThat(turnsStarted).hasValue(2);
                });
    }

    @Test
    void policiesCanBeSwitchedOff() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(Policy.class, ParleyAutoConfigurationTest::forbidden)
                .withPropertyValues("parley.policies.enabled=false", "parley.policies.default-action=block")
                .run(context -> assertThat(turn(context.getBean(ConversationEngine.class), "say forbidden"))
                        .isEqualTo("echo: say forbidden"));
    }

    @Test
    void theEngineIsClosedWithTheContext() {
        ConversationEngine[] engine = new ConversationEngine[1];
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .run(context -> engine[0] = context.getBean(ConversationEngine.class));
        assertThatThrownBy(() -> engine[0].as(ALICE)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void aMeterRegistryBeanGetsParleysMetersAfterATurn() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasSingleBean(ParleyMetrics.class);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(registry.getMeters()).extracting(m -> m.getId().getName())
                            .contains(ParleyMetrics.TURNS, ParleyMetrics.TURN);
                    Meter turns = registry.get(ParleyMetrics.TURNS).meter();
                    assertThat(turns.measure().iterator().next().getValue()).isEqualTo(1.0);
                });
    }

    @Test
    void withoutEngineMicrometerOnTheClassPathNoMetersAreBound() {
        runner.withClassLoader(new FilteredClassLoader(ParleyMetrics.class))
                .withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .run(context -> {
                    assertThat(context).hasNotFailed().doesNotHaveBean(ParleyMetrics.class);
                    turn(context.getBean(ConversationEngine.class), "Hello");
                    assertThat(context.getBean(MeterRegistry.class).getMeters()).isEmpty();
                });
    }

    @Test
    void metricsCanBeSwitchedOff() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("parley.metrics.enabled=false")
                .run(context -> assertThat(context).doesNotHaveBean(ParleyMetrics.class));
    }

    @Test
    void anOpenTelemetryBeanGetsParleysSpansAfterATurn() {
        InMemorySpanExporter spans = InMemorySpanExporter.create();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder().setTracerProvider(SdkTracerProvider.builder()
                .addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
        try (sdk) {
            runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                    .withBean(OpenTelemetry.class, () -> sdk)
                    .run(context -> {
                        assertThat(context).hasSingleBean(ParleyTracing.class);
                        turn(context.getBean(ConversationEngine.class), "Hello");
                        List<String> names = spans.getFinishedSpanItems().stream().map(SpanData::getName).toList();
                        assertThat(names).contains(ParleyTracing.TURN_SPAN);
                    });
        }
    }

    @Test
    void withoutAnOpenTelemetryBeanNoTracingIsBound() {
        runner.withBean("scripted", ModelProvider.class, ScriptedModel::echo)
                .run(context -> assertThat(context).doesNotHaveBean(ParleyTracing.class));
    }

    /** A LangChain4j chat model that always answers {@code text}. */
    private static ChatModel fixed(String text) {
        return new ChatModel() {
            @Override
            public ChatResponse doChat(ChatRequest request) {
                return ChatResponse.builder().aiMessage(AiMessage.from(text)).build();
            }
        };
    }

    /** A LangChain4j streaming chat model that always streams {@code text} as one partial response. */
    private static StreamingChatModel streaming(String text) {
        return new StreamingChatModel() {
            @Override
            public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
                StreamingHandle never = new StreamingHandle() {
                    @Override
                    public void cancel() {
                    }

                    @Override
                    public boolean isCancelled() {
                        return false;
                    }
                };
                handler.onPartialResponse(new PartialResponse(text), new PartialResponseContext(never));
                handler.onCompleteResponse(ChatResponse.builder().aiMessage(AiMessage.from(text)).build());
            }
        };
    }

    /** A policy that finds the word "forbidden". */
    private static Policy forbidden() {
        return new Policy() {
            @Override
            public String id() {
                return "forbidden";
            }

            @Override
            public List<Finding> check(PolicyInput input) {
                int at = input.text().indexOf("forbidden");
                return at < 0 ? List.of()
                        : List.of(new Finding(at, at + "forbidden".length(), Finding.DENY_LIST, id(),
                                "a forbidden word"));
            }
        };
    }

    private static long count(DataSource dataSource, String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static <T extends Throwable> T rootOfType(Throwable failure, Class<T> type) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + failure, failure);
    }
}
