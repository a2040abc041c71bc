package dev.parley.spring.boot;

import dev.parley.api.ConversationEngine;

/**
 * Changes the auto-configured engine's builder after the properties and beans were applied and before it builds:
 * for what has no property or bean of its own (models for one organization or workspace, rate limits, a clock).
 * Every customizer bean is called, in bean order. Options the auto-configuration set already cannot be set again
 * (the builder refuses a second set, naming the option).
 *
 * <pre>{@code
 * @Bean
 * ParleyEngineCustomizer rateLimits() {
 *     return builder -> builder.rateLimits(RateLimits.builder().perCaller(20, 40_000).build());
 * }
 * }</pre>
 */
@FunctionalInterface
public interface ParleyEngineCustomizer {
    /** Changes {@code builder}. */
    void customize(ConversationEngine.Builder builder);
}
