package dev.parley.core;

import dev.parley.api.Caller;
import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.Prompt;
import dev.parley.api.PromptPipeline;
import dev.parley.api.TurnAttribute;
import dev.parley.api.TurnAttributes;
import dev.parley.api.spi.PromptStage;
import dev.parley.api.values.TurnResult;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Typed attributes from the host's caller and prompt, and from one stage to the next. */
class TurnAttributesTest {
    private static final TurnAttribute<String> PLAN = TurnAttribute.of("plan", String.class);
    private static final TurnAttribute<String> ACCOUNT = TurnAttribute.of("account", String.class);
    private static final TurnAttribute<Long> TRACE = TurnAttribute.of("trace", Long.class);

    /** What the stage before the model saw, one entry per turn. */
    private final List<String> seen = new CopyOnWriteArrayList<>();

    private final PromptStage tracing = new PromptStage() {
        @Override
        public TurnResult intercept(Chain chain) {
            return chain.proceed(chain.turn().withAttribute(TRACE, 42L));
        }

        @Override
        public String name() {
            return "Tracing";
        }
    };

    private final PromptStage reading = chain -> {
        var t = chain.turn();
        seen.add(t.attribute(PLAN).orElse("-") + "/" + t.attribute(ACCOUNT).orElse("-") + "/"
                + t.attribute(TRACE).map(String::valueOf).orElse("-"));
        return chain.proceed(t);
    };

    @Test
    void stagesReadTheCallersAndThePromptsAttributesAndWhatAnEarlierStageAdded() {
        try (ConversationEngine engine = EngineFixture.builder(ScriptedModel.echo(), new InMemoryConversationStore())
                .pipeline(PromptPipeline.defaults().insertBefore(ContextStage.class, tracing)
                        .insertBefore(ProviderCallStage.class, reading))
                .build()) {
            Caller pro = Caller.user("alice", EngineFixture.ORG).member(EngineFixture.WS).attribute(PLAN, "pro")
                    .attribute(ACCOUNT, "acct-1").build();
            Conversation c = engine.as(pro).create(NewConversation.inWorkspace(EngineFixture.WS).build());

            c.send(Prompt.text("one").build());
            c.send(Prompt.text("two").attribute(ACCOUNT, "acct-2").build()); // the prompt's overrides the caller's
            engine.as(EngineFixture.member("bob")).create(NewConversation.inWorkspace(EngineFixture.WS).build())
                    .send(Prompt.text("three").build());

            assertThat(seen).containsExactly("pro/acct-1/42", "pro/acct-2/42", "-/-/42");
        }
    }

    @Test
    void aValueOfTheWrongTypeOrNullIsRefusedNamingTheAttributeAndKeysAreTheirOwn() {
        @SuppressWarnings({"unchecked", "rawtypes"})
        TurnAttribute<Object> raw = (TurnAttribute) TRACE;
        assertThatThrownBy(() -> Prompt.text("x").attribute(raw, "not a number"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("trace");
        assertThatThrownBy(() -> Prompt.text("x").attribute(PLAN, null)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("plan");

        TurnAttribute<String> otherPlan = TurnAttribute.of("plan", String.class);
        TurnAttributes a = TurnAttributes.EMPTY.with(PLAN, "pro");
        assertThat(a.get(otherPlan)).isEqualTo(Optional.empty());
        // Values stay out of toString: they may be what a host would not log.
        assertThat(a.toString()).contains("plan").doesNotContain("pro");
        assertThat(Prompt.text("x").attribute(ACCOUNT, "secret-account").build().toString()).doesNotContain("secret");
    }
}
