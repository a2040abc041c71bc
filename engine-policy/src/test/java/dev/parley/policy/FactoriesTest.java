package dev.parley.policy;

import dev.parley.api.spi.PolicyFactory;

import java.util.ServiceLoader;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class FactoriesTest {
    @Test
    void everyBuiltInKindIsFoundOnTheClassPath() {
        assertThat(ServiceLoader.load(PolicyFactory.class).stream().map(p -> p.get().kind()))
                .containsExactlyInAnyOrder("secrets", "pii", "deny-list", "size", "prompt-injection", "llm-judge");
    }
}
