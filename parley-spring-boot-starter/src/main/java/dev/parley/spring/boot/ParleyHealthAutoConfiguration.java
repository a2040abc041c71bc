package dev.parley.spring.boot;

import dev.parley.api.ConversationEngine;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@link ParleyHealthIndicator} of the application's {@link ConversationEngine}, when Spring Boot's health
 * module ({@code spring-boot-health}, which the actuator brings) is on the class path. Without that module nothing
 * here is loaded. An application bean named {@code parleyHealthIndicator}, or of type {@link ParleyHealthIndicator},
 * replaces it; {@code management.health.parley.enabled=false} turns it off.
 */
@AutoConfiguration(after = ParleyAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(ConversationEngine.class)
@ConditionalOnEnabledHealthIndicator("parley")
public class ParleyHealthAutoConfiguration {
    /** Made by Spring Boot, from the auto-configuration imports. */
    public ParleyHealthAutoConfiguration() {
    }

    /** Reads the store through the engine on each health check. */
    @Bean
    @ConditionalOnMissingBean(name = "parleyHealthIndicator", value = ParleyHealthIndicator.class)
    public ParleyHealthIndicator parleyHealthIndicator(ConversationEngine engine) {
        return new ParleyHealthIndicator(engine);
    }
}
