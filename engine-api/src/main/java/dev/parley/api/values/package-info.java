/**
 * What the engine hands to SPI implementations: immutable values ({@link dev.parley.api.values.Turn},
 * {@link dev.parley.api.values.TurnResult}, {@link dev.parley.api.values.ModelRequest},
 * {@link dev.parley.api.values.TurnRecord}, ...) and the handles the engine implements for them
 * ({@link dev.parley.api.values.TurnStream}, {@link dev.parley.api.values.StreamingHandler},
 * {@link dev.parley.api.values.EngineServices}).
 *
 * <p>Audience: implementers of {@link dev.parley.api.spi}, who read and derive these values; hosts do not
 * implement the handles (a test may).
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.values;

import org.jspecify.annotations.NullMarked;
