/**
 * Micrometer metrics of a Parley engine, built on its {@link dev.parley.api.spi.EngineListener}: turns, their
 * latency and time to first delta, each stage and model call, tokens, credits, policy findings, refusals, active
 * streams and replays. Turns, stages and model calls are Micrometer {@code Observation}s, so that a host with a
 * tracing bridge on its {@code ObservationRegistry} gets spans of them too.
 *
 * <p>Audience: hosts. Start at {@link dev.parley.micrometer.ParleyMetrics}. No meter name or tag carries a prompt
 * or a reply.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.micrometer;

import org.jspecify.annotations.NullMarked;
