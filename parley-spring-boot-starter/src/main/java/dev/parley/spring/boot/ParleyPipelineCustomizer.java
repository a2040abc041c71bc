package dev.parley.spring.boot;

import dev.parley.api.PromptPipeline;

/**
 * Edits the auto-configured {@link PromptPipeline} after the {@code PromptStage} beans were inserted: to put a
 * stage at a position of its own, or replace or remove a default stage. Every customizer bean is applied, in bean
 * order.
 *
 * <pre>{@code
 * @Bean
 * ParleyPipelineCustomizer fallback() {
 *     return pipeline -> pipeline.insert(Position.BEFORE_MODEL_CALL, new MyFallbackStage());
 * }
 * }</pre>
 */
@FunctionalInterface
public interface ParleyPipelineCustomizer {
    /** The pipeline with this customizer's edits ({@code pipeline} itself is immutable). */
    PromptPipeline customize(PromptPipeline pipeline);
}
