package dev.parley.core;

import static dev.parley.core.EngineFixture.WS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.NewConversation;
import dev.parley.api.PageRequest;
import dev.parley.api.Prompt;
import dev.parley.api.spi.SteeringResolver;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Optional;

/**
 * What a host plugs in is checked where it enters the engine, and a faulty plug-in fails with an error naming it
 * before it can store something a database would refuse or corrupt a total.
 */
class HostPluginGuardTest {
    private final InMemoryConversationStore store = new InMemoryConversationStore();
    private final ScriptedModel model = ScriptedModel.echo();
    private ConversationEngine engine;

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void anIdSourceReturningAnIdTooLongForTheDatabaseIsRefusedNamingTheSource() {
        engine = ConversationEngine.builder().store(store).model("m", model).ids(() -> "x".repeat(200)).build();

        assertThatThrownBy(() -> engine.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(WS).build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("id source")
                .hasMessageContaining("200 chars");
    }

    @Test
    void anIdSourceReturningNullIsRefusedNamingTheSource() {
        engine = ConversationEngine.builder().store(store).model("m", model).ids(() -> null).build();

        assertThatThrownBy(() -> engine.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(WS).build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("id source");
    }

    @Test
    void aTokenCounterReturningANegativeCountFailsTheTurnNamingTheCounterAndStoresNothing() {
        engine = EngineFixture.builder(model, store).tokenCounter(text -> -5).build();
        Conversation c = engine.as(EngineFixture.member("alice")).create(NewConversation.inWorkspace(WS).build());

        assertThatThrownBy(() -> c.send(Prompt.text("hello").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("token counter")
                .hasMessageContaining("-5");
        assertThat(c.messages(PageRequest.first()).totalElements()).isZero();
        assertThat(c.info().tokensIn()).isZero();
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aSteeringResolverReturningMegabytesIsRefusedNamingTheResolverBeforeTheModelCall() {
        SteeringResolver huge = new SteeringResolver() {
            @Override
            public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
                return Optional.of("v".repeat(4 << 20));
            }

            @Override
            public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
                return Optional.empty();
            }
        };
        engine = EngineFixture.builder(model, store).steeringResolver(huge).build();

        assertThatThrownBy(() -> engine.as(EngineFixture.member("alice"))
                .create(NewConversation.inWorkspace(WS).brandVoiceId("bv-1").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("steering resolver")
                .hasMessageContaining("brand voice");
        assertThat(model.callCount()).isZero();
    }

    @Test
    void aSteeringResolverReturningNullIsRefusedNamingTheResolver() {
        SteeringResolver broken = new SteeringResolver() {
            @Override
            public Optional<String> brandVoice(String organizationId, String brandVoiceId) {
                return null;
            }

            @Override
            public Optional<String> targetAudience(String organizationId, String targetAudienceId) {
                return null;
            }
        };
        engine = EngineFixture.builder(model, store).steeringResolver(broken).build();

        assertThatThrownBy(() -> engine.as(EngineFixture.member("alice"))
                .create(NewConversation.inWorkspace(WS).targetAudienceId("ta-1").build()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("returned null");
    }

    @Test
    void aModelRegisteredUnderANameWithAControlCharacterIsRefused() {
        assertThatThrownBy(() -> ConversationEngine.builder().model("gpt\n4", model))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model name");
    }
}
