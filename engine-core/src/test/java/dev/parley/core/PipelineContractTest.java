package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.TurnResult;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PipelineContractTest {
    private final ScriptedModel model = ScriptedModel.echo();
    private final InMemoryConversationStore store = new InMemoryConversationStore();
    private final List<String> trace = new CopyOnWriteArrayList<>();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private Conversation conversationWith(PromptPipeline pipeline) {
        engine = EngineFixture.builder(model, store).pipeline(pipeline).build();
        return engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
    }

    /** A stage that records when it runs, before and after the rest of the chain. */
    private PromptStage tracing(String name) {
        return new PromptStage() {
            @Override
            public TurnResult intercept(Chain chain) {
                trace.add(name + ">");
                TurnResult r = chain.proceed(chain.turn());
                trace.add("<" + name);
                return r;
            }

            @Override
            public String name() {
                return name;
            }
        };
    }

    @Test
    void defaultPipelineRunsStagesInTheDocumentedOrder() {
        assertThat(PromptPipeline.defaults().stages()).extracting(PromptStage::name).containsExactly(
                "AccessStage", "IdempotencyStage", "PersistStage", "AccountingStage", "PolicyStage", "ContextStage",
                "BudgetStage", "ProviderCallStage");
    }

    @Test
    void insertedAndReplacedStagesRunInOrder() {
        PromptPipeline p = PromptPipeline.defaults()
                .insertBefore(ContextStage.class, tracing("before-context"))
                .insertAfter(AccessStage.class, tracing("after-access"))
                .replace(AccountingStage.class, EngineFixture.named("accounting-replacement", chain -> {
                    trace.add("replacement>");
                    return new AccountingStage().intercept(chain);
                }));
        assertThat(p.stages()).extracting(PromptStage::name).containsExactly("AccessStage", "after-access",
                "IdempotencyStage", "PersistStage", "accounting-replacement", "PolicyStage", "before-context", "ContextStage",
                "BudgetStage", "ProviderCallStage");

        Conversation c = conversationWith(p);
        c.send(Prompt.text("hi").build());

        assertThat(trace).containsExactly("after-access>", "replacement>", "before-context>", "<before-context",
                "<after-access");
        assertThat(c.messages(PageRequest.first()).totalElements()).isEqualTo(2);
    }

    @Test
    void aStageCanRewriteThePromptBeforeTheModelSeesIt() {
        Conversation c = conversationWith(PromptPipeline.defaults().insertBefore(ContextStage.class,
                chain -> chain.proceed(chain.turn().withPrompt(
                        chain.turn().prompt().toBuilder().additionalContext("injected").build()))));
        c.send(Prompt.text("hi").build());
        assertThat(model.lastRequestTexts()).containsExactly("injected", "hi");
    }

    @Test
    void aStageThatReturnsNullFailsTheTurnNamingTheStage() {
        Conversation c = conversationWith(PromptPipeline.defaults()
                .insertBefore(ContextStage.class, EngineFixture.named("NullStage", chain -> null)));
        assertThatThrownBy(() -> c.send(Prompt.text("hi").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("NullStage returned null");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aStageThatProceedsTwiceFailsTheTurnNamingTheStage() {
        Conversation c = conversationWith(PromptPipeline.defaults()
                .insertBefore(ContextStage.class, EngineFixture.named("Twice", chain -> {
                    chain.proceed(chain.turn());
                    return chain.proceed(chain.turn());
                })));
        assertThatThrownBy(() -> c.send(Prompt.text("hi").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Twice called proceed() more than once");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
    }

    @Test
    void aStageThatThrowsFailsTheTurnNamingTheStageAndKeepingTheCause() {
        RuntimeException boom = new IllegalArgumentException("boom");
        Conversation c = conversationWith(PromptPipeline.defaults()
                .insertBefore(ContextStage.class, EngineFixture.named("Exploding", chain -> {
                    throw boom;
                })));
        assertThatThrownBy(() -> c.send(Prompt.text("hi").id("m-1").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("stage Exploding failed")
                .hasCause(boom);
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aParleyExceptionFromAStagePassesThroughUnchanged() {
        PolicyBlockedException blocked = new PolicyBlockedException("no-secrets", "looks like a key");
        Conversation c = conversationWith(PromptPipeline.defaults()
                .insertBefore(ContextStage.class, chain -> {
                    throw blocked;
                }));
        assertThatThrownBy(() -> c.send(Prompt.text("hi").build())).isSameAs(blocked);
    }

    @Test
    void theLastStageMayNotProceed() {
        Conversation c = conversationWith(PromptPipeline.defaults()
                .replace(ProviderCallStage.class, EngineFixture.named("Proceeding", chain -> chain.proceed(chain.turn()))));
        assertThatThrownBy(() -> c.send(Prompt.text("hi").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Proceeding called proceed() but is the last stage");
    }

    @Test
    void aStageThatShortCircuitsAnswersWithoutAModelCall() {
        Conversation c = conversationWith(PromptPipeline.defaults()
                .replace(ProviderCallStage.class, EngineFixture.named("Canned", chain ->
                        TurnResult.fromModel(chain.turn(), "canned", java.util.Optional.empty()))));
        assertThat(c.send(Prompt.text("hi").build()).text()).isEqualTo("canned");
        assertThat(model.callCount()).isZero();
    }

    @Test
    void editingAPipelineByAMissingStageTypeIsRefused() {
        PromptPipeline p = PromptPipeline.defaults().remove(AccessStage.class);
        assertThatThrownBy(() -> p.remove(AccessStage.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("no stage of type dev.parley.core.AccessStage");
    }
}
