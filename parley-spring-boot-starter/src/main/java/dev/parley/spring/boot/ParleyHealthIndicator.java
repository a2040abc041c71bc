package dev.parley.spring.boot;

import dev.parley.api.Caller;
import dev.parley.api.ConversationEngine;
import dev.parley.api.ConversationQuery;
import dev.parley.api.PageRequest;
import dev.parley.api.ParleyException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

import java.util.Objects;

/**
 * The health of the engine's store: {@code UP} when a cheap read succeeds (the first conversation of a probe caller,
 * who owns none), else {@code DOWN} with the failure's type, and its {@link dev.parley.api.ErrorCode} when it has
 * one, as details. The failure's message is neither shown nor logged, since a store's error may quote the data it
 * failed on.
 *
 * <p>Auto-configured as the bean {@code parleyHealthIndicator} (so shown as {@code parley} by the health endpoint)
 * when Spring Boot's health module is on the class path; {@code management.health.parley.enabled=false} turns it off.
 * Thread safe.
 */
public class ParleyHealthIndicator implements HealthIndicator {
    /** The caller the probe reads as, unless another is given: a user of its own organization, owning nothing. */
    public static final Caller DEFAULT_PROBE = Caller.user("parley-health-probe", "parley-health-probe").build();

    private static final Logger log = LoggerFactory.getLogger(ParleyHealthIndicator.class);

    private final ConversationEngine engine;
    private final Caller probe;

    /** The health of {@code engine}'s store, read as {@link #DEFAULT_PROBE}. */
    public ParleyHealthIndicator(ConversationEngine engine) {
        this(engine, DEFAULT_PROBE);
    }

    /** The health of {@code engine}'s store, read as {@code probe}. */
    public ParleyHealthIndicator(ConversationEngine engine, Caller probe) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.probe = Objects.requireNonNull(probe, "probe");
    }

    /** Lists one conversation of the probe caller: {@code UP} when that works, else {@code DOWN}. */
    @Override
    public Health health() {
        try {
            engine.as(probe).list(ConversationQuery.all(PageRequest.of(1, 1)));
            return Health.up().build();
        } catch (RuntimeException e) {
            log.warn("Parley health check failed: {}", e.getClass().getName());
            Health.Builder down = Health.down().withDetail("error", e.getClass().getName());
            if (e instanceof ParleyException p) {
                down.withDetail("code", p.code().name());
            }
            return down.build();
        }
    }

    @Override
    public String toString() {
        return "ParleyHealthIndicator[" + probe.userId() + "]";
    }
}
