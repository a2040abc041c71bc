package dev.parley.core;

import dev.parley.api.Conversation;
import dev.parley.api.ConversationEngine;
import dev.parley.api.InvalidRequestException;
import dev.parley.api.NewConversation;
import dev.parley.api.PolicyBlockedException;
import dev.parley.api.Prompt;
import dev.parley.api.Reply;
import dev.parley.api.policy.PolicyOutcome;
import dev.parley.api.policy.PolicyRule;
import dev.parley.api.policy.PolicyScope;
import dev.parley.api.policy.PolicySet;
import dev.parley.api.policy.PolicySpec;
import dev.parley.api.spi.Policy;
import dev.parley.api.spi.PolicyFactory;
import dev.parley.api.spi.ScopeDirectory;
import dev.parley.testing.ScriptedModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.parley.core.EngineFixture.ORG;
import static dev.parley.core.EngineFixture.WS;
import static dev.parley.core.EngineFixture.member;
import static dev.parley.core.GovernanceTest.SECRET;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Rules added, changed, disabled and removed while engines run, seen by every engine on its next turn. */
public class PolicyRegistryTest {
    /** Makes {@link GovernanceTest.KeyPolicy} policies; its one parameter, {@code mode}, must be {@code strict}. */
    static final PolicyFactory KEYS = new PolicyFactory() {
        @Override
        public String kind() {
            return "test-keys";
        }

        @Override
        public Policy create(PolicySpec spec) {
            String mode = spec.parameters().get("mode");
            if (mode != null && !mode.equals("strict")) {
                throw new InvalidRequestException("parameters.mode", "must be strict");
            }
            for (String name : spec.parameters().keySet()) {
                if (!name.equals("mode")) {
                    throw new InvalidRequestException("parameters." + name, "is not a parameter of test-keys");
                }
            }
            GovernanceTest.KeyPolicy keys = new GovernanceTest.KeyPolicy();
            return new Policy() {
                @Override
                public String id() {
                    return spec.id();
                }

                @Override
                public List<dev.parley.api.policy.Finding> check(dev.parley.api.policy.PolicyInput input) {
                    return keys.check(input).stream().map(f -> new dev.parley.api.policy.Finding(f.start(), f.end(),
                            f.category(), spec.id(), f.reason())).toList();
                }
            };
        }
    };

    private final dev.parley.api.spi.ConversationStore store = newStore();

    /** The store of the first engine; a subclass runs the tests on another. */
    protected dev.parley.api.spi.ConversationStore newStore() {
        return new InMemoryConversationStore();
    }

    /** A store on the same data as {@code first}, for a second engine: the same object unless a database is shared. */
    protected dev.parley.api.spi.ConversationStore sameData(dev.parley.api.spi.ConversationStore first) {
        return first;
    }
    private final List<ConversationEngine> engines = new ArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(ConversationEngine::close);
    }

    private ConversationEngine engine(PolicySet configured) {
        return engine(configured, store);
    }

    private ConversationEngine engine(PolicySet configured, dev.parley.api.spi.ConversationStore on) {
        ConversationEngine e = ConversationEngine.builder().store(on).model(EngineFixture.MODEL, ScriptedModel.echo())
                .policies(configured).policyFactory(KEYS)
                .scopeDirectory(ScopeDirectory.of(Map.of("repo-1",
                        new ScopeDirectory.RepositoryScope("repo-1", ORG, WS))))
                .build();
        engines.add(e);
        return e;
    }

    private static PolicySpec.Builder blockKeys(String id) {
        return PolicySpec.builder(id, "test-keys").action("block").phases("pre");
    }

    @Test
    void aRuleAddedChangedDisabledAndRemovedAtRunTimeIsSeenByEveryEngineOnItsNextTurn() {
        ConversationEngine first = engine(PolicySet.none());
        ConversationEngine second = engine(PolicySet.none(), sameData(store));
        Conversation viaFirst = first.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Conversation viaSecond = second.as(member("alice")).get(viaFirst.id());
        Prompt withKey = Prompt.text("key " + SECRET).build();
        assertThat(viaSecond.send(withKey).policyOutcomes()).isEmpty();

        first.policies().put(blockKeys("keys").build());

        assertThatThrownBy(() -> viaSecond.send(withKey)).isInstanceOfSatisfying(PolicyBlockedException.class,
                e -> assertThat(e.policyName()).isEqualTo("keys"));
        assertThat(second.policies().list()).extracting(PolicySpec::id).containsExactly("keys");

        first.policies().put(blockKeys("keys").action("log").build());
        assertThat(viaSecond.send(withKey).policyOutcomes()).singleElement()
                .satisfies(o -> assertThat(o.status()).isEqualTo(PolicyOutcome.Status.FOUND));

        first.policies().put(blockKeys("keys").enabled(false).build());
        assertThat(viaSecond.send(withKey).policyOutcomes()).isEmpty();

        assertThat(first.policies().remove("keys")).isTrue();
        assertThat(first.policies().remove("keys")).isFalse();
        assertThat(second.policies().list()).isEmpty();
    }

    @Test
    void aRegistryRuleWithTheIdOfACodeRuleTakesItsPlaceAndADisabledOneSwitchesItOff() {
        ConversationEngine engine = engine(PolicySet.of(
                PolicyRule.log(new GovernanceTest.KeyPolicy()).id("house-keys").build()));
        Conversation c = engine.as(member("alice")).create(NewConversation.inWorkspace(WS).build());
        Prompt withKey = Prompt.text("key " + SECRET).build();
        assertThat(c.send(withKey).policyOutcomes()).extracting(PolicyOutcome::ruleId).containsOnly("house-keys");

        engine.policies().put(blockKeys("house-keys").build());
        assertThatThrownBy(() -> c.send(withKey)).isInstanceOf(PolicyBlockedException.class);

        engine.policies().put(blockKeys("house-keys").enabled(false).build());
        assertThat(c.send(withKey).policyOutcomes()).isEmpty();

        engine.policies().remove("house-keys");
        assertThat(c.send(withKey).policyOutcomes()).extracting(PolicyOutcome::ruleId).containsOnly("house-keys");
    }

    @Test
    void aWorkspaceScopedRegistryRuleAppliesInThatWorkspaceOnly() {
        ConversationEngine engine = engine(PolicySet.none());
        dev.parley.api.Caller both = dev.parley.api.Caller.user("alice", ORG).member(WS).member("ws-2").build();
        Conversation inWs1 = engine.as(both).create(NewConversation.inWorkspace(WS).build());
        Conversation inWs2 = engine.as(both).create(NewConversation.inWorkspace("ws-2").build());
        engine.policies().put(blockKeys("ws2-keys").scope(PolicyScope.workspace(ORG, "ws-2")).build());

        Reply allowed = inWs1.send(Prompt.text("key " + SECRET).build());
        assertThat(allowed.policyOutcomes()).isEmpty();
        assertThatThrownBy(() -> inWs2.send(Prompt.text("key " + SECRET).build()))
                .isInstanceOf(PolicyBlockedException.class);
    }

    @Test
    void aBadSpecIsRefusedNamingTheFieldAndNothingIsStored() {
        ConversationEngine engine = engine(PolicySet.none());

        assertThatThrownBy(() -> engine.policies().put(PolicySpec.builder("x", "no-such-kind").build()))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("kind"));
        assertThatThrownBy(() -> engine.policies().put(blockKeys("x").parameter("mode", "lax").build()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("parameters.mode"));
        assertThatThrownBy(() -> engine.policies().put(blockKeys("x").parameter("colour", "red").build()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("parameters.colour"));
        assertThatThrownBy(() -> engine.policies().put(blockKeys("x")
                .scope(PolicyScope.repository(ORG, "repo-unknown")).build()))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("scope.repositoryId"));
        assertThat(engine.policies().list()).isEmpty();

        engine.policies().put(blockKeys("x").scope(PolicyScope.repository(ORG, "repo-1")).build());
        assertThat(engine.policies().list()).singleElement()
                .satisfies(s -> assertThat(s.scope().repositoryId()).isEqualTo("repo-1"));
    }

    @Test
    void specFieldsFromStringsAreParsedOrRefusedNamingTheField() {
        assertThatThrownBy(() -> PolicySpec.builder("x", "test-keys").action("shout"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("action"));
        assertThatThrownBy(() -> PolicySpec.builder("x", "test-keys").phases("pre", "later"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("phases"));
        assertThatThrownBy(() -> PolicySpec.builder("x", "test-keys").failMode("maybe"))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("failMode"));
        assertThatThrownBy(() -> PolicySpec.builder("X Y", "test-keys"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("id"));
        assertThatThrownBy(() -> PolicySpec.builder("x", "Bad Kind"))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("kind"));
        assertThatThrownBy(() -> PolicySpec.builder("x", "test-keys").parameter("mode", null))
                .isInstanceOfSatisfying(InvalidRequestException.class,
                        e -> assertThat(e.field()).isEqualTo("parameters.mode"));
        assertThat(PolicySpec.builder("x", "test-keys").action(" Redact ").phases("during", "POST").failMode("closed")
                .build().toString()).contains("REDACT", "DURING", "POST", "CLOSED");
    }

    @Test
    void anEngineWhoseStoreKeepsNoRulesSaysSo() {
        ConversationEngine e = ConversationEngine.builder().store(new CountingStore(new InMemoryConversationStore()))
                .model(EngineFixture.MODEL, ScriptedModel.echo()).build();
        engines.add(e);

        assertThatThrownBy(e::policies).isInstanceOf(IllegalStateException.class).hasMessageContaining("PolicyRegistry");
    }
}
