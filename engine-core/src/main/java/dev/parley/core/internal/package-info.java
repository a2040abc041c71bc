/**
 * The engine's implementation: conversation handles, the stage chain, streaming and settings caches.
 *
 * <p>Audience: Parley's own modules only. Nothing here is API; it may change in any release.
 *
 * <p>Everything in this package is non-null unless annotated {@link org.jspecify.annotations.Nullable}.
 */
@NullMarked
package dev.parley.core.internal;

import org.jspecify.annotations.NullMarked;
