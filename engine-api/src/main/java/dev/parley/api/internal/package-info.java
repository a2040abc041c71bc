/**
 * Shared by Parley's own modules: argument checks, the listener behind
 * {@link dev.parley.api.spi.EngineListener#factories} and the {@link dev.parley.api.internal.EngineProvider}
 * through which the API finds engine-core.
 *
 * <p>Audience: Parley's modules only. Nothing here is API; it may change in any release.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.api.internal;

import org.jspecify.annotations.NullMarked;
