/**
 * Spring Boot auto-configuration of a Parley {@link dev.parley.api.ConversationEngine}: from {@code parley.*}
 * properties ({@link dev.parley.spring.boot.ParleyProperties}) and the application's beans (LangChain4j chat models,
 * Parley model providers, prompt stages, policies, listeners, a {@code DataSource}), with Micrometer metrics and
 * OpenTelemetry traces bound when the application has them, and a health indicator of the store
 * ({@link dev.parley.spring.boot.ParleyHealthIndicator}) with Spring Boot's health module.
 *
 * <p>Audience: hosts. Start at {@link dev.parley.spring.boot.ParleyAutoConfiguration}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.spring.boot;

import org.jspecify.annotations.NullMarked;
