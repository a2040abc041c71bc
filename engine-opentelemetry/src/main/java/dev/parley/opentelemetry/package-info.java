/**
 * OpenTelemetry traces of a Parley engine, built on its {@link dev.parley.api.spi.EngineListener}: a span per turn,
 * a child per pipeline stage and one for the model call, with the GenAI semantic conventions' attributes and
 * Parley's own; prompt and reply text only when the host asks for it.
 *
 * <p>Audience: hosts. Start at {@link dev.parley.opentelemetry.ParleyTracing}.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.opentelemetry;

import org.jspecify.annotations.NullMarked;
